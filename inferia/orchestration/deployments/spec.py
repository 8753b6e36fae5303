"""What the adapter is asked to run for a replica of a deployment."""

from __future__ import annotations

import json
from typing import Any

import msgspec

from inferia.orchestration.adapters.protocol import ReplicaSpec, Resources


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
