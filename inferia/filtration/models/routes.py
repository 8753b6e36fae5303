"""``/management/models``: the organisation's upstream model definitions (RBAC, audited)."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from inferia.filtration.access import Caller, requires
from inferia.filtration.audit import AuditContext
from inferia.filtration.caller_context import caller_context
from inferia.filtration.models.schemas import ModelCreate, ModelRecord, ModelUpdate
from inferia.filtration.models.service import ModelService


def model_definitions_controller(models: ModelService) -> type[Controller]:
    class ModelDefinitionsController(Controller):
        path = "/management/models"
        tags = ["models"]
        dependencies = {"context": Provide(caller_context, sync_to_thread=False)}

        @get("/", guards=[requires("models:read")])
        async def list_models(
            self, caller: NamedDependency[Caller]
        ) -> dict[str, list[ModelRecord]]:
            return {"data": await models.list_for(caller.organization_id)}

        @get("/{model_id:str}", guards=[requires("models:read")])
        async def get_model(
            self, caller: NamedDependency[Caller], model_id: FromPath[str]
        ) -> ModelRecord:
            return await models.get(caller.organization_id, model_id)

        @post("/", guards=[requires("models:write")], status_code=201)
        async def create_model(
            self,
            context: NamedDependency[AuditContext],
            caller: NamedDependency[Caller],
            data: JSONBody[ModelCreate],
        ) -> ModelRecord:
            return await models.create(context, caller.organization_id, data)

        @patch("/{model_id:str}", guards=[requires("models:write")])
        async def update_model(
            self,
            context: NamedDependency[AuditContext],
            caller: NamedDependency[Caller],
            model_id: FromPath[str],
            data: JSONBody[ModelUpdate],
        ) -> ModelRecord:
            return await models.update(context, caller.organization_id, model_id, data)

        @delete("/{model_id:str}", guards=[requires("models:write")], status_code=204)
        async def delete_model(
            self,
            context: NamedDependency[AuditContext],
            caller: NamedDependency[Caller],
            model_id: FromPath[str],
        ) -> None:
            await models.delete(context, caller.organization_id, model_id)

    return ModelDefinitionsController
