"""usage_records and inference_logs: written in batches by the usage consumer.

No foreign keys on purpose: a record of a since-deleted key or organisation must
still be written (the batch must never fail on it), and the id is the idempotency key.
"""

from __future__ import annotations

from piccolo.columns import UUID, BigInt, Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class UsageRecord(Table, tablename="usage_records"):
    id = UUID(primary_key=True)
    request_id = Varchar(length=64)
    organization_id = Varchar(length=64, index=True)
    key_id = Varchar(length=64, null=True, default=None)
    user_id = Varchar(length=64, null=True, default=None)
    model = Varchar(length=200)
    deployment = Varchar(length=200, null=True, default=None)
    prompt_tokens = Integer(default=0)
    completion_tokens = Integer(default=0)
    cost_micros = BigInt(default=0)
    latency_ms = Integer(default=0)
    ttft_ms = Integer(null=True, default=None)
    status = Integer(default=200)
    stream = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class InferenceLog(Table, tablename="inference_logs"):
    id = UUID(primary_key=True)
    request_id = Varchar(length=64)
    organization_id = Varchar(length=64, index=True)
    key_id = Varchar(length=64, null=True, default=None)
    user_id = Varchar(length=64, null=True, default=None)
    api = Varchar(length=32)
    model = Varchar(length=200)
    deployment = Varchar(length=200, null=True, default=None)
    endpoint = Varchar(length=200, null=True, default=None)
    status = Integer(default=200)
    error_code = Varchar(length=64, null=True, default=None)
    stream = Boolean(default=False)
    prompt_tokens = Integer(default=0)
    completion_tokens = Integer(default=0)
    latency_ms = Integer(default=0)
    ttft_ms = Integer(null=True, default=None)
    client_address = Varchar(length=64, null=True, default=None)
    # Sealed with inferia.core.crypto.SecretBox (context: the record id); None when not kept.
    request_body = Text(null=True, default=None)
    response_body = Text(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
