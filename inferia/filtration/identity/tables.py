"""Identity tables: organisations, users, and their login sessions.

The other tables of the identity side live with their resource: ``roles/tables.py``,
``members/tables.py``, ``invitations/tables.py``, ``api_keys/tables.py``.

Column types are the ones that behave the same on SQLite and PostgreSQL: UUID,
Varchar, Text, Boolean, Timestamptz. Lists are stored as JSON in a Text column
because piccolo's JSON operators are PostgreSQL-only.

Constraints piccolo cannot express on both engines (composite and partial unique
indexes) are created by raw SQL in ``inferia/db/migrations``; they are listed in
each table's docstring so nobody drops them by accident.
"""

from __future__ import annotations

import datetime

from piccolo.columns import UUID, BigInt, Boolean, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(tz=datetime.UTC)


class Organization(Table, tablename="organizations"):
    id = UUID(primary_key=True)
    # URL-safe handle (`default` for the one created on first start).
    slug = Varchar(length=63, unique=True)
    name = Varchar(length=255)
    created_at = Timestamptz(default=TimestamptzNow())


class User(Table, tablename="users"):
    id = UUID(primary_key=True)
    # Always stored lower-cased (see bootstrap.normalise_email), so the plain
    # unique constraint is a case-insensitive one.
    email = Varchar(length=320, unique=True)
    password_hash = Text()
    is_active = Boolean(default=True)
    # Platform operator: may manage every organisation.
    is_superuser = Boolean(default=False)
    # Whether the person is known to control the address. An account created through
    # an invitation is not (whoever held the token chose the address): an operator
    # verifies it (`inferia admin verify-email`) before it can own an organisation.
    email_verified = Boolean(default=True)
    # Sealed with inferia.core.crypto.SecretBox (context "totp:<user id>"); set by
    # /auth/totp/setup, in force once ``totp_enabled`` (after /auth/totp/verify).
    totp_secret_encrypted = Text(null=True, default=None)
    totp_enabled = Boolean(default=False)
    # The last TOTP time step accepted: a code of that step or an earlier one is a replay.
    totp_last_step = BigInt(null=True, default=None)
    # JSON list of SHA-256 digests of the unused recovery codes.
    recovery_codes = Text(default="[]")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=_utc_now)


class AuthSession(Table, tablename="auth_sessions"):
    """One login: the family of refresh tokens that rotate from it.

    Revoking it (logout, reuse of a rotated refresh token, user disabled) ends every
    access and refresh token issued under it.
    """

    id = UUID(primary_key=True)
    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    # The organisation the session acts in (changed by /auth/switch-org).
    organization = ForeignKey(Organization, null=False, on_delete=OnDelete.cascade)
    created_at = Timestamptz(default=TimestamptzNow())
    # Absolute end: rotation does not extend a session past this.
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    revoked_reason = Varchar(length=32, null=True, default=None)


class RefreshToken(Table, tablename="refresh_tokens"):
    """A refresh token, stored only as the SHA-256 of its 256 random bits."""

    id = UUID(primary_key=True)
    session = ForeignKey(AuthSession, null=False, on_delete=OnDelete.cascade, index=True)
    digest = Varchar(length=64, unique=True, index=True)
    expires_at = Timestamptz()
    # Set when it was exchanged; presenting it again is reuse and revokes the session.
    used_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
