"""The registered_models table: model artifacts and how to serve them, by name and version."""

from __future__ import annotations

from piccolo.columns import UUID, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class RegisteredModel(Table, tablename="registered_models"):
    id = UUID(primary_key=True)
    organization = UUID(index=True)
    # "<organization>/<name>/<version>": unique (see ComputePool.scoped_name).
    scoped_name = Varchar(length=500, unique=True)
    name = Varchar(length=200, index=True)
    version = Varchar(length=100)
    artifact_uri = Text()
    engine = Varchar(length=32)
    # JSON list of extra command-line arguments for the engine.
    engine_args = Text(default="[]")
    # JSON list: the server command of the "openai-compatible" engine.
    command = Text(default="[]")
    # JSON object: gpus, gpu_memory_gb, cpus, memory_gb.
    resources = Text(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
