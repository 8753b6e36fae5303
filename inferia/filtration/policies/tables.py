"""The limit_policies table: one row per (organisation, scope, subject, model)."""

from __future__ import annotations

from piccolo.columns import UUID, Boolean, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from inferia.filtration.identity.tables import Organization


class LimitPolicy(Table, tablename="limit_policies"):
    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, on_delete=OnDelete.cascade, index=True)
    # "organization", "user" or "api_key"; subject is that organisation/user/key id.
    scope = Varchar(length=20)
    subject = Varchar(length=64)
    # One model name, or "*" for every model.
    model = Varchar(length=200, default="*")
    # JSON object of LimitValues (unset fields omitted).
    limits = Text(default="{}")
    # Organisation scope, all models: keep request/response bodies in inference logs.
    log_bodies = Boolean(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
