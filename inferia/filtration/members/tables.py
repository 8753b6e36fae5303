"""The memberships table: a user's role in one organisation."""

from __future__ import annotations

from piccolo.columns import UUID, Boolean, ForeignKey, Timestamptz
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from inferia.filtration.identity.tables import Organization, User
from inferia.filtration.roles.tables import Role


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
