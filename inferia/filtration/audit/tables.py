"""The audit_logs table: one row per security-relevant action, append-only.

``organization`` and ``actor`` are plain UUID columns, not foreign keys: the trail
must outlive the users and organisations it mentions. ``id`` is a growing integer so
that pagination has a stable order (newest first) on both engines.
"""

from __future__ import annotations

from piccolo.columns import UUID, BigSerial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class AuditLog(Table, tablename="audit_logs"):
    id = BigSerial(primary_key=True)
    organization = UUID(null=True, default=None, index=True)
    actor = UUID(null=True, default=None, index=True)
    # Dotted verb, e.g. "api_key.create", "auth.login".
    action = Varchar(length=100, index=True)
    target = Varchar(length=255, null=True, default=None)
    outcome = Varchar(length=16)
    client_address = Varchar(length=64, null=True, default=None)
    request_id = Varchar(length=128, null=True, default=None)
    # JSON object of non-secret context ({"reason": "bad_password"}).
    details = Text(default="{}")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
