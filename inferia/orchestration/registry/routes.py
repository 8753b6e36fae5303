"""Model registry routes under ``/deployment``: paths to service calls."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, post
from litestar.params import FromPath, JSONBody

from inferia.orchestration.access import Access
from inferia.orchestration.changes import ActionContext
from inferia.orchestration.registry.schemas import ModelList, ModelRegister, RegisteredModelRecord
from inferia.orchestration.registry.service import RegistryService


def registry_controller(service: RegistryService, access: Access) -> type[Controller]:
    class RegistryController(Controller):
        path = "/deployment"
        tags = ["model registry"]

        @post("/registerModel", guards=[access.requires("deployments:write")], status_code=201)
        async def register_model(
            self, request: Request[Any, Any, Any], data: JSONBody[ModelRegister]
        ) -> RegisteredModelRecord:
            """Register a model version (immutable once registered)."""
            context = ActionContext.of(request, access.caller(request))
            return await service.register(context, data)

        @get("/listModels", guards=[access.requires("deployments:read")])
        async def list_models(self, request: Request[Any, Any, Any]) -> ModelList:
            return ModelList(await service.list_for(access.caller(request).organization_id))

        @get("/getModel/{name:str}/{version:str}", guards=[access.requires("deployments:read")])
        async def get_model(
            self, request: Request[Any, Any, Any], name: FromPath[str], version: FromPath[str]
        ) -> RegisteredModelRecord:
            return await service.get(access.caller(request).organization_id, name, version)

        @delete(
            "/deleteModel/{name:str}/{version:str}",
            guards=[access.requires("deployments:write")],
            status_code=204,
        )
        async def delete_model(
            self, request: Request[Any, Any, Any], name: FromPath[str], version: FromPath[str]
        ) -> None:
            """Delete a model version; 409 while a deployment uses it."""
            await service.delete(ActionContext.of(request, access.caller(request)), name, version)

    return RegistryController
