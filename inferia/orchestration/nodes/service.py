"""Inventory: register nodes (a token shown once), list, delete (which revokes the
token), and heartbeats authenticated by that token."""

from __future__ import annotations

from typing import Any

from inferia.core.errors import AuthenticationError, ConflictError
from inferia.orchestration.changes import ActionContext, Changes
from inferia.orchestration.nodes.schemas import (
    Heartbeat,
    HeartbeatReply,
    NodeRecord,
    NodeRegister,
    RegisteredNode,
)
from inferia.orchestration.nodes.store import NodeStore, encode, node_record
from inferia.orchestration.nodes.tables import Node
from inferia.orchestration.nodes.tokens import NodeTokens
from inferia.orchestration.pools.store import PoolStore


class InventoryService:
    def __init__(
        self,
        store: NodeStore,
        pools: PoolStore,
        changes: Changes,
        tokens: NodeTokens,
        heartbeat_timeout_s: float,
    ) -> None:
        self._store = store
        self._pools = pools
        self._changes = changes
        self._tokens = tokens
        self._heartbeat_timeout_s = heartbeat_timeout_s

    async def register(self, context: ActionContext, data: NodeRegister) -> RegisteredNode:
        pool = await self._pools.row(context.organization_id, data.pool_id)
        if await self._store.count_in_pool(pool["id"]) >= pool["max_nodes"]:
            raise ConflictError(
                f"the pool allows at most {pool['max_nodes']} nodes (max_nodes)", param="pool_id"
            )
        token, digest = self._tokens.issue()
        values = {
            "provider_instance_id": data.provider_instance_id,
            "capacity": encode(data.capacity),
            "endpoint": data.endpoint,
        }
        async with self._changes.apply(context) as change:
            node_id = await self._store.create(context.organization_id, pool["id"], digest, values)
            change.audit(
                "node.register",
                target=node_id,
                details={"pool": data.pool_id, "instance": data.provider_instance_id},
            )
        return RegisteredNode(node=await self.get(context.organization_id, node_id), token=token)

    async def get(self, organization_id: str, node_id: str) -> NodeRecord:
        row = await self._store.row(organization_id, node_id)
        return node_record(row, await self._store.replica_ids(row["id"]))

    async def list_for(self, organization_id: str, pool_id: str | None) -> list[NodeRecord]:
        if pool_id is not None:
            await self._pools.row(organization_id, pool_id)  # another organisation's: 404
        rows = await self._store.list_for(organization_id, pool_id)
        return [node_record(row, await self._store.replica_ids(row["id"])) for row in rows]

    async def delete(self, context: ActionContext, node_id: str) -> None:
        """Forget the node; its token stops working at once."""
        row = await self._store.row(context.organization_id, node_id)
        async with self._changes.apply(context) as change:
            await self._store.delete(row["id"])
            change.audit("node.delete", target=node_id, details={"pool": str(row["pool"])})

    async def heartbeat(self, authorization: str | None, data: Heartbeat) -> HeartbeatReply:
        node = await self._authenticate(authorization)
        values: dict[Any, Any] = {}
        if data.capacity is not None:
            values[Node.capacity] = encode(data.capacity)
        if data.allocation is not None:
            values[Node.allocation] = encode(data.allocation)
        if data.endpoint is not None:
            values[Node.endpoint] = data.endpoint
        await self._store.beat(node["id"], values)
        unknown: list[str] = []
        if data.replicas is not None:
            unknown = await self._store.claim_replicas(node, data.replicas)
        return HeartbeatReply(
            node_id=str(node["id"]),
            state="READY",
            heartbeat_timeout_s=self._heartbeat_timeout_s,
            unknown_replicas=unknown,
        )

    async def _authenticate(self, authorization: str | None) -> dict[str, object]:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("a heartbeat needs 'authorization: Bearer <node token>'")
        node = await self._store.by_digest(self._tokens.digest(token.strip()))
        if node is None:  # unknown, or revoked by deleting the node
            raise AuthenticationError("invalid or revoked node token")
        return node
