"""What the adapter is asked to run for a replica of a deployment."""

from __future__ import annotations

import json
from typing import Any

import msgspec

from inferia.core.crypto import SecretBox
from inferia.orchestration.adapters.protocol import (
    ComputeAdapter,
    PoolAwareAdapter,
    PoolTarget,
    ReplicaSpec,
    Resources,
)


def replica_spec(
    deployment: dict[str, Any],
    model: dict[str, Any],
    pool: dict[str, Any],
    *,
    replica_id: str,
    api_key: str,
) -> ReplicaSpec:
    return ReplicaSpec(
        replica_id=replica_id,
        deployment_id=str(deployment["id"]),
        artifact_uri=model["artifact_uri"],
        engine=model["engine"],
        served_name=deployment["served_name"],
        api_key=api_key,
        engine_args=tuple(json.loads(deployment["engine_args"])),
        command=tuple(json.loads(model["command"])),
        resources=msgspec.json.decode(deployment["resources"], type=Resources),
        pool_config=json.loads(pool["config"]),
        pool_id=str(pool["id"]),
    )


def pool_target(pool: dict[str, Any], box: SecretBox) -> PoolTarget:
    """The pool as a pool-aware adapter needs it: config and unsealed credentials."""
    sealed = pool["credentials"]
    credentials = json.loads(box.decrypt(sealed, f"pool:{pool['id']}")) if sealed else {}
    return PoolTarget(
        pool_id=str(pool["id"]), config=json.loads(pool["config"]), credentials=credentials
    )


def tell_pool(adapter: ComputeAdapter, pool: dict[str, Any], box: SecretBox) -> None:
    """Before an adapter is asked about the pool's replicas (no-op for most adapters)."""
    if isinstance(adapter, PoolAwareAdapter):
        adapter.use_pool(pool_target(pool, box))
