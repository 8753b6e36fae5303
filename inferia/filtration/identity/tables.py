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

from piccolo.columns import UUID, Boolean, ForeignKey, Text, Timestamptz, Varchar
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
    totp_secret_encrypted = Text(null=True, default=None)
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
    created_at = Timestamptz(default=TimestamptzNow())
