"""The plane's records as gRPC messages, and gRPC requests as the REST bodies (so that
both transports validate input with the same msgspec schemas)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import msgspec

from inferia.core.errors import ValidationError
from inferia.orchestration.adapters.protocol import Resources
from inferia.orchestration.deployments.schemas import (
    DeploymentRecord,
    DeployRequest,
    EventRecord,
    ScaleRequest,
)
from inferia.orchestration.grpc_gen.inferia.orchestration import v1
from inferia.orchestration.nodes.schemas import Heartbeat, NodeResources
from inferia.orchestration.pools.schemas import PoolCreate, PoolRecord
from inferia.orchestration.registry.schemas import ModelRegister, RegisteredModelRecord


def _time(moment: datetime) -> str:
    return moment.isoformat()


def _json_object(text: str, field: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        raise ValidationError(f"{field} is not JSON", param=field) from None
    if not isinstance(value, dict):
        raise ValidationError(f"{field} must be a JSON object", param=field)
    return value


def resources(message: v1.Resources | None) -> dict[str, Any]:
    if message is None:
        return {}
    return {
        "gpus": message.gpus,
        "gpu_memory_gb": message.gpu_memory_gb,
        "cpus": message.cpus,
        "memory_gb": message.memory_gb,
    }


def resources_message(value: Resources) -> v1.Resources:
    return v1.Resources(**msgspec.structs.asdict(value))


# Pools ----------------------------------------------------------------------------


def pool_create(message: v1.CreatePoolRequest) -> PoolCreate:
    body: dict[str, Any] = {
        "name": message.name,
        "provider": message.provider,
        "config": _json_object(message.config_json, "config_json"),
        "allowed_gpu_types": list(message.allowed_gpu_types),
        "regions": list(message.regions),
    }
    if message.credentials_json:
        body["credentials"] = _json_object(message.credentials_json, "credentials_json")
    for name in ("min_nodes", "max_nodes", "max_cost_per_hour"):
        if getattr(message, name) is not None:
            body[name] = getattr(message, name)
    return msgspec.convert(body, PoolCreate)


def pool_message(pool: PoolRecord) -> v1.Pool:
    return v1.Pool(
        id=pool.id,
        owner_id=pool.owner_id,
        name=pool.name,
        provider=pool.provider,
        config_json=json.dumps(pool.config),
        has_credentials=pool.has_credentials,
        allowed_gpu_types=pool.allowed_gpu_types,
        min_nodes=pool.min_nodes,
        max_nodes=pool.max_nodes,
        max_cost_per_hour=pool.max_cost_per_hour,
        regions=pool.regions,
        state=pool.state,
        created_at=_time(pool.created_at),
    )


# Registry -------------------------------------------------------------------------


def model_register(message: v1.RegisterModelRequest) -> ModelRegister:
    body = {
        "name": message.name,
        "version": message.version,
        "artifact_uri": message.artifact_uri,
        "engine": message.engine,
        "engine_args": list(message.engine_args),
        "command": list(message.command),
        "resources": resources(message.resources),
    }
    return msgspec.convert(body, ModelRegister)


def model_message(model: RegisteredModelRecord) -> v1.Model:
    return v1.Model(
        id=model.id,
        name=model.name,
        version=model.version,
        artifact_uri=model.artifact_uri,
        engine=model.engine,
        engine_args=model.engine_args,
        command=model.command,
        resources=resources_message(model.resources),
        created_at=_time(model.created_at),
    )


# Deployments ----------------------------------------------------------------------


def deploy_request(message: v1.DeployRequest) -> DeployRequest:
    body: dict[str, Any] = {
        "model": message.model,
        "version": message.version,
        "pool_id": message.pool_id,
    }
    for name in ("replicas", "served_name", "routing_strategy"):
        if getattr(message, name) is not None:
            body[name] = getattr(message, name)
    if message.use_engine_args:
        body["engine_args"] = list(message.engine_args)
    if message.resources is not None:
        body["resources"] = resources(message.resources)
    return msgspec.convert(body, DeployRequest)


def event_message(event: EventRecord, deployment_id: str, seq: int = 0) -> v1.DeploymentEvent:
    return v1.DeploymentEvent(
        seq=seq,
        deployment_id=deployment_id,
        at=_time(event.at),
        from_state=event.from_state or "",
        to_state=event.to_state,
        reason=event.reason,
        actor=event.actor,
    )


def deployment_message(record: DeploymentRecord) -> v1.Deployment:
    return v1.Deployment(
        id=record.id,
        state=record.state,
        model=record.model,
        version=record.version,
        pool_id=record.pool_id,
        served_name=record.served_name,
        desired_replicas=record.replicas.desired,
        ready_replicas=record.replicas.ready,
        endpoints=record.endpoints,
        error=record.error,
        engine_args=record.engine_args,
        resources=resources_message(record.resources),
        routing_strategy=record.routing_strategy,
        created_at=_time(record.created_at),
        updated_at=_time(record.updated_at),
        events=[event_message(e, record.id) for e in record.events],
    )


# Inventory ------------------------------------------------------------------------


def _node_resources(message: v1.NodeResources | None) -> NodeResources | None:
    if message is None:
        return None
    return msgspec.convert(
        {
            "gpus": dict(message.gpus),
            "gpu_memory_gb": message.gpu_memory_gb,
            "cpus": message.cpus,
            "memory_gb": message.memory_gb,
        },
        NodeResources,
    )


def heartbeat(message: v1.HeartbeatRequest) -> Heartbeat:
    body: dict[str, Any] = {}
    if message.endpoint is not None:
        body["endpoint"] = message.endpoint
    if message.report_replicas:
        body["replicas"] = list(message.replicas)
    decoded = msgspec.convert(body, Heartbeat)
    return msgspec.structs.replace(
        decoded,
        capacity=_node_resources(message.capacity),
        allocation=_node_resources(message.allocation),
    )


def scale_replicas(replicas: int) -> int:
    return msgspec.convert({"replicas": replicas}, ScaleRequest).replicas
