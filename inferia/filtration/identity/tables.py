"""Identity tables: organisations, users, roles and memberships.

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


class Role(Table, tablename="roles"):
    """A named set of permissions.

    ``organization`` is NULL for the built-in roles shared by every organisation.
    Unique indexes (migration ``inferia_..._000001``): ``(organization, name)``,
    and ``name`` among built-in roles (``WHERE organization IS NULL``), because
    NULLs are distinct in a plain unique index.
    """

    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=True, default=None, on_delete=OnDelete.cascade)
    name = Varchar(length=64)
    # JSON list of permission strings, e.g. ["models:read", "api_keys:write"].
    permissions = Text(default="[]")
    builtin = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())


class Membership(Table, tablename="memberships"):
    """A user's role in one organisation.

    Unique index (migration ``inferia_..._000001``): ``(user, organization)``.
    ``user`` is a reserved word in PostgreSQL: quote it in raw SQL.
    """

    id = UUID(primary_key=True)
    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    organization = ForeignKey(Organization, null=False, on_delete=OnDelete.cascade, index=True)
    # RESTRICT: a role still held by someone cannot be deleted.
    role = ForeignKey(Role, null=False, on_delete=OnDelete.restrict, index=True)
    # A disabled member keeps the row (and its history) but may not act in the organisation.
    is_active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


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


class Invitation(Table, tablename="invitations"):
    """An invitation to join an organisation: single use, expiring, stored as a digest."""

    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, on_delete=OnDelete.cascade, index=True)
    email = Varchar(length=320)
    role = ForeignKey(Role, null=False, on_delete=OnDelete.cascade)
    digest = Varchar(length=64, unique=True, index=True)
    invited_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    expires_at = Timestamptz()
    accepted_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
