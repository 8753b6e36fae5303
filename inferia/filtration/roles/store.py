"""Queries of the roles table. Run inside the caller's transaction when they change rows."""

from __future__ import annotations

import contextlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from inferia.db.errors import wrap_errors
from inferia.filtration.members.tables import Membership
from inferia.filtration.roles.catalogue import role_permissions
from inferia.filtration.roles.schemas import RoleRecord
from inferia.filtration.roles.tables import Role


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


async def visible(organization_id: str) -> list[RoleRecord]:
    """The built-in roles and the organisation's own."""
    async with wrap_errors():
        rows = await Role.select().where(
            Role.organization.is_null() | (Role.organization == organization_id)
        )
    return [role_record(row) for row in rows]


async def find(organization_id: str, role_ref: str) -> RoleRecord | None:
    """A role visible to the organisation by id or name; its own shadows a built-in one."""
    condition = Role.name == role_ref
    with contextlib.suppress(ValueError):
        condition = Role.id == str(uuid.UUID(role_ref))
    async with wrap_errors():
        rows = await Role.select().where(
            (Role.organization.is_null() | (Role.organization == organization_id)) & condition
        )
    if not rows:
        return None
    rows.sort(key=lambda row: row["organization"] is None)
    return role_record(rows[0])


async def insert(organization_id: str, name: str, permissions: list[str]) -> str:
    role = Role(
        organization=organization_id,
        name=name,
        permissions=json.dumps(permissions),
        builtin=False,
    )
    await role.save()
    return str(role.id)


async def update(role_id: str, name: str | None, permissions: list[str] | None) -> None:
    values: dict[Any, Any] = {}
    if name is not None:
        values[Role.name] = name
    if permissions is not None:
        values[Role.permissions] = json.dumps(permissions)
    await Role.update(values).where(Role.id == role_id)


async def in_use(role_id: str) -> bool:
    return bool(await Membership.exists().where(Membership.role == role_id))


async def delete(role_id: str) -> None:
    await Role.delete().where(Role.id == role_id)
