"""Pool routes under ``/deployment``: paths to service calls."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, post
from litestar.params import FromPath, JSONBody

from inferia.core.errors import NotFoundError
from inferia.orchestration.access import Access
from inferia.orchestration.changes import ActionContext
from inferia.orchestration.pools.schemas import PoolCreate, PoolList, PoolRecord
from inferia.orchestration.pools.service import PoolService


def pools_controller(service: PoolService, access: Access) -> type[Controller]:
    class PoolsController(Controller):
        path = "/deployment"
        tags = ["pools"]

        @post("/createpool", guards=[access.requires("pools:write")], status_code=201)
        async def create_pool(
            self, request: Request[Any, Any, Any], data: JSONBody[PoolCreate]
        ) -> PoolRecord:
            """Create a compute pool; its config is validated by the provider's adapter."""
            return await service.create(ActionContext.of(request, access.caller(request)), data)

        @get("/listPools/{owner_id:str}", guards=[access.requires("pools:read")])
        async def list_pools(
            self, request: Request[Any, Any, Any], owner_id: FromPath[str]
        ) -> PoolList:
            """The pools of ``owner_id``, which must be the caller's organisation."""
            caller = access.caller(request)
            if owner_id != caller.organization_id:
                raise NotFoundError(f"organisation {owner_id} not found")
            return PoolList(await service.list_for(caller.organization_id))

        @get("/pool/{pool_id:str}", guards=[access.requires("pools:read")])
        async def get_pool(
            self, request: Request[Any, Any, Any], pool_id: FromPath[str]
        ) -> PoolRecord:
            return await service.get(access.caller(request).organization_id, pool_id)

        @delete("/pool/{pool_id:str}", guards=[access.requires("pools:write")], status_code=204)
        async def delete_pool(
            self, request: Request[Any, Any, Any], pool_id: FromPath[str]
        ) -> None:
            """Delete a pool; 409 while deployments use it."""
            await service.delete(ActionContext.of(request, access.caller(request)), pool_id)

    return PoolsController
