"""Queries of the identity tables: accounts, organisations, login sessions and their
rotating refresh tokens.

A session is one login; its refresh tokens form a family. Exchanging a refresh
token marks it used and issues the next one; presenting a used token again means it
was copied (or the client is broken), so the whole family is revoked: the thief and
the legitimate client both have to log in again. Only SHA-256 digests of the tokens
(256 random bits each) are stored.

The changing functions run inside the caller's transaction.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from inferia.core.errors import NotFoundError
from inferia.db.errors import wrap_errors
from inferia.filtration.identity.tables import AuthSession, Organization, RefreshToken, User
from inferia.filtration.members.tables import Membership

REFRESH_PREFIX = "rt_"
_MAX_REFRESH_LENGTH = 128


def refresh_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_refresh_token() -> str:
    return REFRESH_PREFIX + secrets.token_urlsafe(32)


def plausible_refresh_token(token: str) -> bool:
    return token.startswith(REFRESH_PREFIX) and len(token) <= _MAX_REFRESH_LENGTH


@dataclass(frozen=True, slots=True)
class RefreshLookup:
    token_id: str
    session_id: str
    user_id: str
    organization_id: str
    used: bool
    token_expired: bool
    session_revoked: bool
    session_expired: bool
    session_expires_at: datetime


async def open_session(user_id: str, organization_id: str, ttl_s: int) -> tuple[str, str]:
    """A new session and its first refresh token: (session id, refresh token)."""
    session_id = uuid.uuid4()
    expires_at = datetime.now(UTC) + timedelta(seconds=ttl_s)
    await AuthSession(
        id=session_id, user=user_id, organization=organization_id, expires_at=expires_at
    ).save()
    token = await issue_refresh_token(str(session_id), expires_at)
    return str(session_id), token


async def issue_refresh_token(session_id: str, expires_at: datetime) -> str:
    token = new_refresh_token()
    await RefreshToken(
        id=uuid.uuid4(), session=session_id, digest=refresh_digest(token), expires_at=expires_at
    ).save()
    return token


async def find_refresh_token(token: str) -> RefreshLookup | None:
    row: dict[str, Any] | None = (
        await RefreshToken.select(
            RefreshToken.id,
            RefreshToken.used_at,
            RefreshToken.expires_at,
            RefreshToken.session,
            RefreshToken.session.user,
            RefreshToken.session.organization,
            RefreshToken.session.revoked_at,
            RefreshToken.session.expires_at,
        )
        .where(RefreshToken.digest == refresh_digest(token))
        .first()
    )
    if row is None:
        return None
    now = datetime.now(UTC)
    session_expires = aware(row["session.expires_at"])
    return RefreshLookup(
        token_id=str(row["id"]),
        session_id=str(row["session"]),
        user_id=str(row["session.user"]),
        organization_id=str(row["session.organization"]),
        used=row["used_at"] is not None,
        token_expired=aware(row["expires_at"]) <= now,
        session_revoked=row["session.revoked_at"] is not None,
        session_expired=session_expires <= now,
        session_expires_at=session_expires,
    )


async def mark_used(token_id: str) -> bool:
    """Claim the token for one exchange; False if another request claimed it first."""
    claimed = (
        await RefreshToken.update({RefreshToken.used_at: datetime.now(UTC)})
        .where((RefreshToken.id == token_id) & RefreshToken.used_at.is_null())
        .returning(RefreshToken.id)
    )
    return bool(claimed)


async def supersede_refresh_tokens(session_id: str) -> None:
    """Retire the session's unused refresh tokens (a new one is about to be issued)."""
    await RefreshToken.update({RefreshToken.used_at: datetime.now(UTC)}).where(
        (RefreshToken.session == session_id) & RefreshToken.used_at.is_null()
    )


async def revoke_session(session_id: str, reason: str) -> None:
    await AuthSession.update(
        {AuthSession.revoked_at: datetime.now(UTC), AuthSession.revoked_reason: reason}
    ).where((AuthSession.id == session_id) & AuthSession.revoked_at.is_null())


async def revoke_user_sessions(
    user_id: str,
    reason: str,
    organization_id: str | None = None,
    *,
    keep_session: str | None = None,
) -> None:
    """End the user's sessions (in one organisation if given), but ``keep_session``."""
    condition = (AuthSession.user == user_id) & AuthSession.revoked_at.is_null()
    if organization_id is not None:
        condition = condition & (AuthSession.organization == organization_id)
    if keep_session:
        condition = condition & (AuthSession.id != keep_session)
    await AuthSession.update(
        {AuthSession.revoked_at: datetime.now(UTC), AuthSession.revoked_reason: reason}
    ).where(condition)


def aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def session_expiry(session_id: str) -> datetime | None:
    row = (
        await AuthSession.select(AuthSession.expires_at).where(AuthSession.id == session_id).first()
    )
    return aware(row["expires_at"]) if row is not None else None


async def move_session(session_id: str, organization_id: str) -> None:
    await AuthSession.update({AuthSession.organization: organization_id}).where(
        AuthSession.id == session_id
    )


async def set_password_hash(user_id: str, password_hash: str) -> None:
    await User.update({User.password_hash: password_hash}).where(User.id == user_id)


async def organization_id_of(reference: str) -> str:
    """An organisation's id from its id or slug; NotFoundError otherwise."""
    condition = Organization.slug == reference
    with contextlib.suppress(ValueError):
        condition = Organization.id == str(uuid.UUID(reference))
    async with wrap_errors():
        row = await Organization.select(Organization.id).where(condition).first()
    if row is None:
        raise NotFoundError("organisation not found", param="organization")
    return str(row["id"])


async def user_by_email(email: str) -> dict[str, Any] | None:
    async with wrap_errors():
        row: dict[str, Any] | None = await User.select().where(User.email == email).first()
    return row


async def user_by_id(user_id: str) -> dict[str, Any] | None:
    async with wrap_errors():
        row: dict[str, Any] | None = await User.select().where(User.id == user_id).first()
    return row


async def user_id_by_email(email: str) -> str | None:
    async with wrap_errors():
        row = await User.select(User.id).where(User.email == email).first()
    return str(row["id"]) if row is not None else None


async def user_active(user_id: str) -> bool:
    async with wrap_errors():
        row = await User.select(User.is_active).where(User.id == user_id).first()
    return bool(row and row["is_active"])


async def totp_enabled(user_id: str) -> bool:
    async with wrap_errors():
        row = await User.select(User.totp_enabled).where(User.id == user_id).first()
    return bool(row and row["totp_enabled"])


async def active_member(user_id: str, organization_id: str) -> bool:
    async with wrap_errors():
        return bool(
            await Membership.exists().where(
                (Membership.user == user_id)
                & (Membership.organization == organization_id)
                & (Membership.is_active == True)  # noqa: E712
            )
        )


async def first_organization(user_id: str, *, active_only: bool = False) -> str | None:
    """The organisation the user joined first (among active memberships if asked)."""
    query = Membership.select(Membership.organization).where(Membership.user == user_id)
    if active_only:
        query = query.where(Membership.is_active == True)  # noqa: E712
    async with wrap_errors():
        row = await query.order_by(Membership.created_at).first()
    return str(row["organization"]) if row else None


async def memberships(user_id: str) -> list[dict[str, Any]]:
    """The user's memberships with their organisation and role, oldest first."""
    async with wrap_errors():
        rows: list[dict[str, Any]] = (
            await Membership.select(
                Membership.organization,
                Membership.organization.slug,
                Membership.organization.name,
                Membership.role.name,
                Membership.is_active,
            )
            .where(Membership.user == user_id)
            .order_by(Membership.created_at)
        )
    return rows
