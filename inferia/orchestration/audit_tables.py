"""The orchestration_audit table: who changed which pool, model or deployment.

This plane keeps its own audit (see docs/orchestration.md): its records commit in the
same transaction as the change, which a port to another plane's trail could not do.
"""

from __future__ import annotations

from piccolo.columns import UUID, BigSerial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class OrchestrationAudit(Table, tablename="orchestration_audit"):
    id = BigSerial(primary_key=True)
    organization = UUID(null=True, default=None, index=True)
    actor = UUID(null=True, default=None, index=True)
    action = Varchar(length=100, index=True)
    target = Varchar(length=255, null=True, default=None)
    client_address = Varchar(length=64, null=True, default=None)
    request_id = Varchar(length=128, null=True, default=None)
    details = Text(default="{}")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
