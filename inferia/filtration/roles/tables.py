"""The roles table (constraints piccolo cannot express: see identity/tables.py)."""

from __future__ import annotations

from piccolo.columns import UUID, Boolean, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from inferia.filtration.identity.tables import Organization


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
