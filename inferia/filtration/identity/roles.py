"""Roles: the built-in ones (shared, read-only) and each organisation's custom roles.

Nobody can grant what they do not hold: a custom role may only contain permissions
its creator has, and only an owner (or a platform operator) hands out ``owner``.
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec

from inferia.core.errors import (
    ConflictError,
    IntegrityViolation,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from inferia.db.errors import wrap_errors
from inferia.filtration.audit import AuditContext, AuditTrail
from inferia.filtration.identity.roles_catalogue import (
    ALL_PERMISSIONS,
    BUILTIN_ROLES,
    OWNER_ROLE,
    SUPERUSER_ROLE,
    role_permissions,
)
from inferia.filtration.identity.tables import Membership, Role

if TYPE_CHECKING:
    from inferia.db import Database
    from inferia.filtration.access import Caller

_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_UNCHANGED: Any = object()


class RoleRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    permissions: list[str]
    builtin: bool
    organization_id: str | None
    created_at: datetime


def role_record(row: dict[str, Any]) -> RoleRecord:
    created: datetime = row["created_at"]
    return RoleRecord(
        id=str(row["id"]),
        name=row["name"],
        permissions=sorted(role_permissions(row["name"], row["builtin"], row["permissions"])),
        builtin=bool(row["builtin"]),
        organization_id=str(row["organization"]) if row["organization"] else None,
        created_at=created if created.tzinfo else created.replace(tzinfo=UTC),
    )


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
    def __init__(self, database: Database, audit: AuditTrail) -> None:
        self._database = database
        self._audit = audit

    async def list(self, organization_id: str) -> list[RoleRecord]:
        async with wrap_errors():
            rows = await Role.select().where(
                Role.organization.is_null() | (Role.organization == organization_id)
            )
        records = [role_record(row) for row in rows]
        return sorted(records, key=lambda r: (not r.builtin, r.name))

    async def get(self, organization_id: str, role_ref: str) -> RoleRecord:
        """A role visible to the organisation by id or name; 404 for another's."""
        visible = Role.organization.is_null() | (Role.organization == organization_id)
        condition = Role.name == role_ref
        with contextlib.suppress(ValueError):
            condition = Role.id == str(uuid.UUID(role_ref))
        async with wrap_errors():
            rows = await Role.select().where(visible & condition)
        if not rows:
            raise NotFoundError("role not found", param="role")
        # An organisation's own role shadows a built-in one of the same name.
        rows.sort(key=lambda row: row["organization"] is None)
        return role_record(rows[0])

    async def create(
        self, caller: Caller, context: AuditContext, name: str, permissions: Sequence[str]
    ) -> RoleRecord:
        name = _checked_name(name)
        permissions = _checked_permissions(permissions)
        check_grantable(caller, name, permissions)
        role = Role(
            organization=caller.organization_id,
            name=name,
            permissions=json.dumps(permissions),
            builtin=False,
        )
        try:
            async with self._database.transaction():
                await role.save()
                await self._audit.record_as(
                    context,
                    "role.create",
                    target=str(role.id),
                    details={"name": name, "permissions": permissions},
                )
        except IntegrityViolation:
            raise ConflictError(f"a role named {name!r} already exists", param="name") from None
        return await self.get(caller.organization_id, str(role.id))

    async def update(
        self,
        caller: Caller,
        context: AuditContext,
        role_id: str,
        *,
        name: str = _UNCHANGED,
        permissions: Sequence[str] = _UNCHANGED,
    ) -> RoleRecord:
        record = await self._own(caller.organization_id, role_id)
        values: dict[Any, Any] = {}
        if name is not _UNCHANGED:
            values[Role.name] = _checked_name(name)
        if permissions is not _UNCHANGED:
            checked = _checked_permissions(permissions)
            check_grantable(caller, record.name, checked)
            values[Role.permissions] = json.dumps(checked)
        # Changing a role changes what its holders may do: the caller must hold it all.
        check_grantable(caller, record.name, record.permissions)
        if not values:
            return record
        try:
            async with self._database.transaction():
                await Role.update(values).where(Role.id == record.id)
                await self._audit.record_as(
                    context,
                    "role.update",
                    target=record.id,
                    details={str(col._meta.name): v for col, v in values.items()},
                )
        except IntegrityViolation:
            raise ConflictError("a role with that name already exists", param="name") from None
        return await self.get(caller.organization_id, record.id)

    async def delete(self, caller: Caller, context: AuditContext, role_id: str) -> None:
        record = await self._own(caller.organization_id, role_id)
        check_grantable(caller, record.name, record.permissions)
        try:
            async with self._database.transaction():
                if await Membership.exists().where(Membership.role == record.id):
                    raise ConflictError("the role is still assigned to members")
                await Role.delete().where(Role.id == record.id)
                await self._audit.record_as(
                    context, "role.delete", target=record.id, details={"name": record.name}
                )
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
