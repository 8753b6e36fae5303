"""The invitations table."""

from __future__ import annotations

from piccolo.columns import UUID, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from inferia.filtration.identity.tables import Organization, User
from inferia.filtration.roles.tables import Role


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
