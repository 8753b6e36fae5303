"""``/management/models``: the organisation's upstream model definitions (RBAC, audited)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from inferia.db import Database
from inferia.filtration.access import Caller, requires
from inferia.filtration.audit import AuditContext, AuditTrail
from inferia.filtration.models.schemas import ModelCreate, ModelRecord, ModelUpdate
from inferia.filtration.models.store import ModelStore


def _details(record: ModelRecord) -> dict[str, Any]:
    # Never the API keys: only where the traffic goes.
    return {
        "name": record.name,
        "routing_strategy": record.routing_strategy,
        "endpoints": [e.base_url for e in record.endpoints],
    }


def models_controller(store: ModelStore, database: Database, audit: AuditTrail) -> type[Controller]:
    class ModelsController(Controller):
        path = "/management/models"
        tags = ["models"]

        @get("/", guards=[requires("models:read")])
        async def list_models(
            self, caller: NamedDependency[Caller]
        ) -> dict[str, list[ModelRecord]]:
            return {"data": await store.list_for(caller.organization_id)}

        @get("/{model_id:str}", guards=[requires("models:read")])
        async def get_model(
            self, caller: NamedDependency[Caller], model_id: FromPath[str]
        ) -> ModelRecord:
            return await store.get(caller.organization_id, model_id)

        @post("/", guards=[requires("models:write")], status_code=201)
        async def create_model(
            self,
            request: Request[Any, Any, Any],
            caller: NamedDependency[Caller],
            data: JSONBody[ModelCreate],
        ) -> ModelRecord:
            context = AuditContext.of(
                request, actor_id=caller.user_id, organization_id=caller.organization_id
            )
            async with database.transaction():
                record = await store.create(caller.organization_id, data)
                await audit.record_as(
                    context, "model.create", target=record.id, details=_details(record)
                )
            await store.announce_change(record.id)
            return record

        @patch("/{model_id:str}", guards=[requires("models:write")])
        async def update_model(
            self,
            request: Request[Any, Any, Any],
            caller: NamedDependency[Caller],
            model_id: FromPath[str],
            data: JSONBody[ModelUpdate],
        ) -> ModelRecord:
            context = AuditContext.of(
                request, actor_id=caller.user_id, organization_id=caller.organization_id
            )
            async with database.transaction():
                record = await store.update(caller.organization_id, model_id, data)
                await audit.record_as(
                    context, "model.update", target=record.id, details=_details(record)
                )
            await store.announce_change(record.id)
            return record

        @delete("/{model_id:str}", guards=[requires("models:write")], status_code=204)
        async def delete_model(
            self,
            request: Request[Any, Any, Any],
            caller: NamedDependency[Caller],
            model_id: FromPath[str],
        ) -> None:
            context = AuditContext.of(
                request, actor_id=caller.user_id, organization_id=caller.organization_id
            )
            async with database.transaction():
                record = await store.delete(caller.organization_id, model_id)
                await audit.record_as(
                    context, "model.delete", target=record.id, details=_details(record)
                )
            await store.announce_change(record.id)

    return ModelsController
