"""Queries of the memberships table (and the accounts they belong to). The changing
ones run inside the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from inferia.db.errors import wrap_errors
from inferia.filtration.identity.tables import User
from inferia.filtration.members.schemas import MemberRecord
from inferia.filtration.members.tables import Membership
from inferia.filtration.roles.catalogue import OWNER_ROLE


async def list_members(organization_id: str) -> list[MemberRecord]:
    async with wrap_errors():
        rows = await _member_query().where(Membership.organization == organization_id)
    return [_member(row) for row in rows]


async def find(organization_id: str, user_id: str) -> MemberRecord | None:
    if not _is_uuid(user_id):
        return None
    async with wrap_errors():
        row = (
            await _member_query()
            .where((Membership.organization == organization_id) & (Membership.user == user_id))
            .first()
        )
    return _member(row) if row is not None else None


async def is_member(organization_id: str, user_id: str) -> bool:
    if not _is_uuid(user_id):
        return False
    async with wrap_errors():
        return bool(
            await Membership.exists().where(
                (Membership.organization == organization_id) & (Membership.user == user_id)
            )
        )


async def email_taken(email: str) -> bool:
    async with wrap_errors():
        return bool(await User.exists().where(User.email == email))


async def insert_account(
    email: str, password_hash: str, organization_id: str, role_id: str, *, verified: bool = True
) -> str:
    """A new account and its membership: the user's id. ``verified``: whether the
    person is known to control the e-mail address."""
    user = User(email=email, password_hash=password_hash, email_verified=verified)
    await user.save()
    await insert(str(user.id), organization_id, role_id)
    return str(user.id)


async def insert(user_id: str, organization_id: str, role_id: str) -> None:
    await Membership(user=user_id, organization=organization_id, role=role_id).save()


async def update(organization_id: str, user_id: str, values: dict[Any, Any]) -> None:
    await Membership.update(values).where(
        (Membership.organization == organization_id) & (Membership.user == user_id)
    )


async def set_email_verified(user_id: str) -> None:
    await User.update({User.email_verified: True}).where(User.id == user_id)


async def set_account_active(user_id: str, active: bool) -> None:
    await User.update({User.is_active: active}).where(User.id == user_id)


async def delete(organization_id: str, user_id: str) -> None:
    await Membership.delete().where(
        (Membership.organization == organization_id) & (Membership.user == user_id)
    )


async def other_active_owners(organization_id: str, leaving_user_id: str) -> int:
    count: int = await Membership.count().where(
        (Membership.organization == organization_id)
        & (Membership.user != leaving_user_id)
        & (Membership.is_active == True)  # noqa: E712
        & (Membership.role.name == OWNER_ROLE)
        & Membership.role.organization.is_null()
    )
    return count


def _member_query() -> Any:
    return Membership.select(
        Membership.user,
        Membership.user.email,
        Membership.user.is_active,
        Membership.user.totp_enabled,
        Membership.user.email_verified,
        Membership.role,
        Membership.role.name,
        Membership.is_active,
        Membership.created_at,
    ).order_by(Membership.created_at)


def _member(row: dict[str, Any]) -> MemberRecord:
    joined: datetime = row["created_at"]
    return MemberRecord(
        user_id=str(row["user"]),
        email=row["user.email"],
        role=row["role.name"],
        role_id=str(row["role"]),
        active=bool(row["is_active"]),
        account_active=bool(row["user.is_active"]),
        totp_enabled=bool(row["user.totp_enabled"]),
        email_verified=bool(row["user.email_verified"]),
        joined_at=joined if joined.tzinfo else joined.replace(tzinfo=UTC),
    )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
