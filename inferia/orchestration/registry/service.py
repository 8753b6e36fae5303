"""The model registry: register (immutable versions), list, get, delete (409 if deployed)."""

from __future__ import annotations

from inferia.core.errors import ConflictError, ValidationError
from inferia.db import wrap_errors
from inferia.orchestration.changes import ActionContext, Changes
from inferia.orchestration.deployments.lifecycle import DeploymentState
from inferia.orchestration.deployments.tables import Deployment
from inferia.orchestration.registry.schemas import ModelRegister, RegisteredModelRecord
from inferia.orchestration.registry.store import RegistryStore, record


class RegistryService:
    def __init__(self, store: RegistryStore, changes: Changes) -> None:
        self._store = store
        self._changes = changes

    async def list_for(self, organization_id: str) -> list[RegisteredModelRecord]:
        return await self._store.list_for(organization_id)

    async def get(self, organization_id: str, name: str, version: str) -> RegisteredModelRecord:
        return record(await self._store.row(organization_id, name, version))

    async def register(self, context: ActionContext, data: ModelRegister) -> RegisteredModelRecord:
        if data.engine == "openai-compatible" and not data.command:
            raise ValidationError(
                "the 'openai-compatible' engine needs a 'command'", param="command"
            )
        async with self._changes.apply(context) as change:
            model = await self._store.create(context.organization_id, data)
            change.audit(
                "model_registry.register",
                target=model.id,
                details={"name": model.name, "version": model.version, "uri": model.artifact_uri},
            )
        return model

    async def delete(self, context: ActionContext, name: str, version: str) -> None:
        row = await self._store.row(context.organization_id, name, version)
        async with self._changes.apply(context) as change:
            async with wrap_errors():
                deployments = await Deployment.select(Deployment.state).where(
                    Deployment.model == row["id"]
                )
            if any(d["state"] != DeploymentState.TERMINATED for d in deployments):
                raise ConflictError(f"model {name} version {version} is deployed")
            async with wrap_errors():
                await Deployment.delete().where(Deployment.model == row["id"])
            await self._store.delete(row["id"])
            change.audit(
                "model_registry.delete",
                target=str(row["id"]),
                details={"name": name, "version": version},
            )
