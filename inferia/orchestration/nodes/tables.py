"""The nodes table: machines of a pool, as registered and reported by heartbeats."""

from __future__ import annotations

from piccolo.columns import UUID, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from inferia.orchestration.pools.tables import ComputePool


class Node(Table, tablename="nodes"):
    id = UUID(primary_key=True)
    organization = UUID(index=True)
    pool = ForeignKey(ComputePool, null=False, on_delete=OnDelete.cascade, index=True)
    provider_instance_id = Varchar(length=255, default="")
    # HMAC digest of the node's token (like API keys): the token itself is shown once.
    token_digest = Varchar(length=128, unique=True)
    # JSON objects: {"gpus": {"A100": 2}, "gpu_memory_gb", "cpus", "memory_gb"}.
    capacity = Text(default="{}")
    allocation = Text(default="{}")
    # READY, UNKNOWN (silent for heartbeat_timeout_s), LOST (silent for twice that).
    state = Varchar(length=16, default="READY")
    endpoint = Varchar(length=300, null=True, default=None)
    last_heartbeat = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
