"""Roles: the built-in ones (shared, read-only) and each organisation's custom roles.

Nobody can grant what they do not hold: a custom role may only contain permissions
its creator has, and only an owner (or a platform operator) hands out ``owner``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from msgspec import UNSET, UnsetType

from inferia.core.errors import (
    ConflictError,
    IntegrityViolation,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from inferia.filtration.audit import AuditContext
from inferia.filtration.changes import Changes
from inferia.filtration.roles import store
from inferia.filtration.roles.catalogue import (
    ALL_PERMISSIONS,
    BUILTIN_ROLES,
    OWNER_ROLE,
    SUPERUSER_ROLE,
)
from inferia.filtration.roles.schemas import RoleRecord

if TYPE_CHECKING:
    from inferia.filtration.access import Caller

_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def check_grantable(caller: Caller, role_name: str, permissions: Sequence[str]) -> None:
    """Refuse to hand out a role with more power than the caller has."""
    if role_name == OWNER_ROLE and caller.role != OWNER_ROLE and not caller.is_superuser:
        raise PermissionDeniedError("only an owner can make someone an owner")
    missing = set(permissions) - caller.permissions
    if missing:
        raise PermissionDeniedError(
            f"you cannot grant permissions you do not hold: {', '.join(sorted(missing))}"
        )


class RoleService:
    def __init__(self, changes: Changes) -> None:
        self._changes = changes

    async def list(self, organization_id: str) -> list[RoleRecord]:
        records = await store.visible(organization_id)
        return sorted(records, key=lambda r: (not r.builtin, r.name))

    async def get(self, organization_id: str, role_ref: str) -> RoleRecord:
        """A role visible to the organisation by id or name; 404 for another's."""
        record = await store.find(organization_id, role_ref)
        if record is None:
            names = ", ".join(r.name for r in await self.list(organization_id))
            raise NotFoundError(
                f"role {role_ref!r} not found; the roles are: {names}", param="role"
            )
        return record

    async def create(
        self, caller: Caller, context: AuditContext, name: str, permissions: Sequence[str]
    ) -> RoleRecord:
        name = _checked_name(name)
        permissions = _checked_permissions(permissions)
        check_grantable(caller, name, permissions)
        try:
            async with self._changes.apply(context) as change:
                role_id = await store.insert(caller.organization_id, name, permissions)
                change.audit(
                    "role.create",
                    target=role_id,
                    details={"name": name, "permissions": permissions},
                )
        except IntegrityViolation:
            raise ConflictError(f"a role named {name!r} already exists", param="name") from None
        return await self.get(caller.organization_id, role_id)

    async def update(
        self,
        caller: Caller,
        context: AuditContext,
        role_id: str,
        *,
        name: str | UnsetType = UNSET,
        permissions: Sequence[str] | UnsetType = UNSET,
    ) -> RoleRecord:
        record = await self._own(caller.organization_id, role_id)
        # The audit details are the columns as stored (permissions as JSON).
        details: dict[str, Any] = {}
        new_name = new_permissions = None
        if not isinstance(name, UnsetType):
            new_name = details["name"] = _checked_name(name)
        if not isinstance(permissions, UnsetType):
            new_permissions = _checked_permissions(permissions)
            check_grantable(caller, record.name, new_permissions)
            details["permissions"] = json.dumps(new_permissions)
        # Changing a role changes what its holders may do: the caller must hold it all.
        check_grantable(caller, record.name, record.permissions)
        if not details:
            return record
        try:
            async with self._changes.apply(context) as change:
                await store.update(record.id, new_name, new_permissions)
                change.audit("role.update", target=record.id, details=details)
        except IntegrityViolation:
            raise ConflictError("a role with that name already exists", param="name") from None
        return await self.get(caller.organization_id, record.id)

    async def delete(self, caller: Caller, context: AuditContext, role_id: str) -> None:
        record = await self._own(caller.organization_id, role_id)
        check_grantable(caller, record.name, record.permissions)
        try:
            async with self._changes.apply(context) as change:
                if await store.in_use(record.id):
                    raise ConflictError("the role is still assigned to members")
                await store.delete(record.id)
                change.audit("role.delete", target=record.id, details={"name": record.name})
        except IntegrityViolation:
            raise ConflictError("the role is still in use") from None

    async def _own(self, organization_id: str, role_id: str) -> RoleRecord:
        record = await self.get(organization_id, role_id)
        if record.builtin:
            raise PermissionDeniedError("built-in roles cannot be changed or deleted")
        return record


def _checked_name(name: str) -> str:
    name = name.strip().lower()
    if not _NAME_RE.fullmatch(name):
        raise ValidationError(
            "role names are 1-64 characters: lower-case letters, digits, '-' and '_'",
            param="name",
        )
    if name in BUILTIN_ROLES or name == SUPERUSER_ROLE:
        raise ConflictError(f"{name!r} is a built-in role name", param="name")
    return name


def _checked_permissions(permissions: Sequence[str]) -> list[str]:
    unknown = sorted(set(permissions) - set(ALL_PERMISSIONS))
    if unknown:
        raise ValidationError(f"unknown permissions: {', '.join(unknown)}", param="permissions")
    return sorted(set(permissions))
