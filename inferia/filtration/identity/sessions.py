"""Login sessions and their rotating refresh tokens.

A session is one login; its refresh tokens form a family. Exchanging a refresh
token marks it used and issues the next one; presenting a used token again means it
was copied (or the client is broken), so the whole family is revoked: the thief and
the legitimate client both have to log in again. Only SHA-256 digests of the tokens
(256 random bits each) are stored.

These functions run inside the caller's transaction.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from inferia.filtration.identity.tables import AuthSession, RefreshToken

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
    user_id: str, reason: str, organization_id: str | None = None
) -> None:
    condition = (AuthSession.user == user_id) & AuthSession.revoked_at.is_null()
    if organization_id is not None:
        condition = condition & (AuthSession.organization == organization_id)
    await AuthSession.update(
        {AuthSession.revoked_at: datetime.now(UTC), AuthSession.revoked_reason: reason}
    ).where(condition)


def aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
