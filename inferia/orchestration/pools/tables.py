"""The compute_pools table: where deployments may run, and through which adapter."""

from __future__ import annotations

from piccolo.columns import UUID, Integer, Real, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class ComputePool(Table, tablename="compute_pools"):
    id = UUID(primary_key=True)
    # A plain column, not a foreign key: this plane owns no identity tables.
    organization = UUID(index=True)
    # "<organization>/<name>": one pool of a name per organisation (a single-column
    # unique constraint works on both engines; a two-column one needs raw SQL on SQLite).
    scoped_name = Varchar(length=300, unique=True)
    name = Varchar(length=200)
    provider = Varchar(length=64)
    # JSON object, validated by the adapter.
    config = Text(default="{}")
    # SecretBox-sealed JSON object (bound to the pool id); write-only in the API.
    credentials = Text(null=True, default=None)
    allowed_gpu_types = Text(default="[]")
    min_nodes = Integer(default=0)
    max_nodes = Integer(default=1)
    max_cost_per_hour = Real(null=True, default=None)
    regions = Text(default="[]")
    state = Varchar(length=16, default="ACTIVE")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
