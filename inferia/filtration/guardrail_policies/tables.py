"""The guardrail_policies and guardrail_events tables."""

from __future__ import annotations

from piccolo.columns import UUID, ForeignKey, Real, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from inferia.filtration.identity.tables import Organization


class GuardrailPolicyRow(Table, tablename="guardrail_policies"):
    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, on_delete=OnDelete.cascade, index=True)
    # One model name, or "*" for the organisation's default policy.
    model = Varchar(length=200, default="*")
    # JSON of GuardrailPolicy.
    policy = Text(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class GuardrailEvent(Table, tablename="guardrail_events"):
    """One finding: which scanner, what category, what was done. Never the text."""

    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, on_delete=OnDelete.cascade, index=True)
    request_id = Varchar(length=64)
    key_id = Varchar(length=64, null=True, default=None)
    model = Varchar(length=200)
    direction = Varchar(length=8)
    scanner = Varchar(length=64)
    category = Varchar(length=64)
    action = Varchar(length=8)
    location = Varchar(length=200)
    score = Real(default=1.0)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
