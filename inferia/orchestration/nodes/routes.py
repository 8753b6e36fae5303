"""Inventory routes under ``/inventory``: paths to service calls. Node management
needs ``pools:*``; heartbeats authenticate with the node's own token instead."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from inferia.orchestration.access import Access
from inferia.orchestration.changes import ActionContext
from inferia.orchestration.nodes.schemas import (
    Heartbeat,
    HeartbeatReply,
    NodeList,
    NodeRecord,
    NodeRegister,
    RegisteredNode,
)
from inferia.orchestration.nodes.service import InventoryService

PoolFilter = Annotated[str | None, QueryParameter(max_length=64)]


def inventory_controller(service: InventoryService, access: Access) -> type[Controller]:
    class InventoryNodesController(Controller):
        path = "/inventory"
        tags = ["inventory"]

        @post("/nodes", guards=[access.requires("pools:write")], status_code=201)
        async def register_node(
            self, request: Request[Any, Any, Any], data: JSONBody[NodeRegister]
        ) -> RegisteredNode:
            """Register a node of a pool; its token is in this reply only."""
            return await service.register(ActionContext.of(request, access.caller(request)), data)

        @get("/nodes", guards=[access.requires("pools:read")])
        async def list_nodes(
            self, request: Request[Any, Any, Any], pool_id: PoolFilter = None
        ) -> NodeList:
            organization = access.caller(request).organization_id
            return NodeList(await service.list_for(organization, pool_id))

        @get("/nodes/{node_id:str}", guards=[access.requires("pools:read")])
        async def get_node(
            self, request: Request[Any, Any, Any], node_id: FromPath[str]
        ) -> NodeRecord:
            return await service.get(access.caller(request).organization_id, node_id)

        @delete("/nodes/{node_id:str}", guards=[access.requires("pools:write")], status_code=204)
        async def delete_node(
            self, request: Request[Any, Any, Any], node_id: FromPath[str]
        ) -> None:
            """Forget a node and revoke its token."""
            await service.delete(ActionContext.of(request, access.caller(request)), node_id)

        @post("/heartbeat", status_code=200)
        async def heartbeat(
            self, request: Request[Any, Any, Any], data: JSONBody[Heartbeat]
        ) -> HeartbeatReply:
            """A node reports capacity, allocation, endpoint and the replicas it runs
            (``authorization: Bearer <node token>``)."""
            return await service.heartbeat(request.headers.get("authorization"), data)

    return InventoryNodesController
