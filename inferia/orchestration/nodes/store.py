"""Node rows. Users' reads and deletes are filtered by organisation; heartbeats find
their node by token digest; the reconciler's sweep sees every organisation's nodes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec

from inferia.core.errors import NotFoundError
from inferia.db import wrap_errors
from inferia.orchestration.deployments.tables import Replica
from inferia.orchestration.ids import parse_id
from inferia.orchestration.nodes.health import NodeState
from inferia.orchestration.nodes.schemas import NodeRecord, NodeResources
from inferia.orchestration.nodes.tables import Node


class NodeStore:
    async def create(
        self, organization_id: str, pool_id: Any, digest: str, values: dict[str, Any]
    ) -> str:
        node_id = uuid.uuid4()
        async with wrap_errors():
            await Node(
                id=node_id,
                organization=organization_id,
                pool=pool_id,
                token_digest=digest,
                **values,
            ).save()
        return str(node_id)

    async def row(self, organization_id: str, node_id: str) -> dict[str, Any]:
        key = parse_id(node_id, "node")
        async with wrap_errors():
            row = (
                await Node.select()
                .where((Node.id == key) & (Node.organization == organization_id))
                .first()
            )
        if row is None:
            raise NotFoundError(f"node {node_id} not found")
        return row

    async def list_for(self, organization_id: str, pool_id: str | None) -> list[dict[str, Any]]:
        condition: Any = Node.organization == organization_id
        if pool_id is not None:
            condition &= Node.pool == parse_id(pool_id, "pool")
        async with wrap_errors():
            return await Node.select().where(condition).order_by(Node.created_at)

    async def count_in_pool(self, pool_id: Any) -> int:
        async with wrap_errors():
            return int(await Node.count().where(Node.pool == pool_id))

    async def by_digest(self, digest: str) -> dict[str, Any] | None:
        async with wrap_errors():
            return await Node.select().where(Node.token_digest == digest).first()

    async def delete(self, node_id: Any) -> None:
        async with wrap_errors():
            await Node.delete().where(Node.id == node_id)

    async def beat(self, node_id: Any, values: dict[Any, Any]) -> None:
        values = {**values, Node.state: NodeState.READY, Node.last_heartbeat: datetime.now(UTC)}
        async with wrap_errors():
            await Node.update(values).where(Node.id == node_id)

    async def claim_replicas(self, node: dict[str, Any], replica_ids: list[str]) -> list[str]:
        """Record which of the pool's replicas this node runs (the report replaces the
        last one); returns the reported ids the pool does not have."""
        wanted = {_uuid(value) for value in replica_ids} - {None}
        async with wrap_errors():
            known = (
                await Replica.select(Replica.id).where(
                    Replica.id.is_in(list(wanted)) & (Replica.deployment.pool == node["pool"])
                )
                if wanted
                else []
            )
            ids = [row["id"] for row in known]
            released = Replica.node == node["id"]
            if ids:
                released &= Replica.id.not_in(ids)
                await Replica.update({Replica.node: node["id"]}).where(Replica.id.is_in(ids))
            await Replica.update({Replica.node: None}).where(released)
        found = {str(i) for i in ids}
        return [value for value in replica_ids if value not in found]

    async def replica_ids(self, node_id: Any) -> list[str]:
        async with wrap_errors():
            rows = await Replica.select(Replica.id).where(Replica.node == node_id)
        return [str(row["id"]) for row in rows]

    async def unsettled(self) -> list[dict[str, Any]]:
        """Every node not LOST yet (the sweep's work list)."""
        async with wrap_errors():
            return await Node.select(
                Node.id, Node.organization, Node.state, Node.last_heartbeat, Node.created_at
            ).where(Node.state != NodeState.LOST)

    async def set_state(self, node_id: Any, state: NodeState, was: str) -> bool:
        """False when a heartbeat changed the node meanwhile."""
        async with wrap_errors():
            changed = (
                await Node.update({Node.state: state})
                .where((Node.id == node_id) & (Node.state == was))
                .returning(Node.id)
            )
        return bool(changed)


def node_record(row: dict[str, Any], replicas: list[str] | None = None) -> NodeRecord:
    return NodeRecord(
        id=str(row["id"]),
        pool_id=str(row["pool"]),
        provider_instance_id=row["provider_instance_id"],
        capacity=msgspec.json.decode(row["capacity"], type=NodeResources),
        allocation=msgspec.json.decode(row["allocation"], type=NodeResources),
        state=row["state"],
        endpoint=row["endpoint"],
        last_heartbeat=row["last_heartbeat"],
        created_at=row["created_at"],
        replicas=replicas or [],
    )


def encode(resources: NodeResources) -> str:
    return json.dumps(msgspec.to_builtins(resources))


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
