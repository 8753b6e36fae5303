"""Queries of the invitations table. The changing ones run inside the caller's
transaction."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from inferia.db.errors import wrap_errors
from inferia.filtration.identity.tables import User
from inferia.filtration.invitations.schemas import InvitationRecord
from inferia.filtration.invitations.tables import Invitation
from inferia.filtration.members.tables import Membership


@dataclass(frozen=True, slots=True)
class PendingInvitation:
    """An invitation found by its token, with the id of the role it grants."""

    record: InvitationRecord
    role_id: str


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def list_invitations(organization_id: str) -> list[InvitationRecord]:
    async with wrap_errors():
        rows = await _query().where(Invitation.organization == organization_id)
    return [_record(row) for row in rows]


async def find(organization_id: str, invitation_id: str) -> InvitationRecord | None:
    try:
        uuid.UUID(invitation_id)
    except ValueError:
        return None
    async with wrap_errors():
        row = (
            await _query()
            .where((Invitation.organization == organization_id) & (Invitation.id == invitation_id))
            .first()
        )
    return _record(row) if row is not None else None


async def find_by_token(token: str) -> PendingInvitation | None:
    async with wrap_errors():
        row = await _query().where(Invitation.digest == digest(token)).first()
    if row is None:
        return None
    return PendingInvitation(record=_record(row), role_id=str(row["role"]))


async def is_member(organization_id: str, email: str) -> bool:
    async with wrap_errors():
        return bool(
            await Membership.exists().where(
                (Membership.organization == organization_id) & (Membership.user.email == email)
            )
        )


async def account(email: str) -> dict[str, Any] | None:
    async with wrap_errors():
        row: dict[str, Any] | None = await User.select().where(User.email == email).first()
    return row


async def insert(row: Invitation) -> None:
    await row.save()


async def revoke(invitation_id: str) -> None:
    await Invitation.update({Invitation.revoked_at: datetime.now(UTC)}).where(
        Invitation.id == invitation_id
    )


async def claim(invitation_id: str) -> bool:
    """Mark the invitation accepted; False if it was accepted or revoked meanwhile."""
    claimed = (
        await Invitation.update({Invitation.accepted_at: datetime.now(UTC)})
        .where(
            (Invitation.id == invitation_id)
            & Invitation.accepted_at.is_null()
            & Invitation.revoked_at.is_null()
        )
        .returning(Invitation.id)
    )
    return bool(claimed)


def _query() -> Any:
    return Invitation.select(
        Invitation.id,
        Invitation.organization,
        Invitation.email,
        Invitation.role,
        Invitation.role.name,
        Invitation.expires_at,
        Invitation.accepted_at,
        Invitation.revoked_at,
        Invitation.created_at,
    ).order_by(Invitation.created_at)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _record(row: dict[str, Any]) -> InvitationRecord:
    expires = _aware(row["expires_at"])
    created = _aware(row["created_at"])
    assert expires is not None and created is not None
    return InvitationRecord(
        id=str(row["id"]),
        organization_id=str(row["organization"]),
        email=row["email"],
        role=row["role.name"],
        expires_at=expires,
        accepted_at=_aware(row["accepted_at"]),
        revoked_at=_aware(row["revoked_at"]),
        created_at=created,
    )
