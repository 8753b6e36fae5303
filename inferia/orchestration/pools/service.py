"""Compute pools: create (config validated by the adapter), list, get, delete."""

from __future__ import annotations

import json
import uuid

from inferia.core.crypto import SecretBox
from inferia.core.errors import ConflictError, ValidationError
from inferia.db import wrap_errors
from inferia.orchestration.adapters.discovery import AdapterRegistry
from inferia.orchestration.changes import ActionContext, Changes
from inferia.orchestration.deployments.lifecycle import DeploymentState
from inferia.orchestration.deployments.tables import Deployment
from inferia.orchestration.pools.schemas import PoolCreate, PoolRecord
from inferia.orchestration.pools.store import PoolStore, record


class PoolService:
    def __init__(
        self, store: PoolStore, changes: Changes, adapters: AdapterRegistry, box: SecretBox
    ) -> None:
        self._store = store
        self._changes = changes
        self._adapters = adapters
        self._box = box

    async def list_for(self, organization_id: str) -> list[PoolRecord]:
        return await self._store.list_for(organization_id)

    async def get(self, organization_id: str, pool_id: str) -> PoolRecord:
        return record(await self._store.row(organization_id, pool_id))

    async def create(self, context: ActionContext, data: PoolCreate) -> PoolRecord:
        if data.min_nodes > data.max_nodes:
            raise ValidationError("min_nodes must not exceed max_nodes", param="min_nodes")
        adapter = self._adapters.get(data.provider)
        try:
            config = adapter.validate_pool_config(data.config)
        except ValueError as exc:
            raise ValidationError(
                f"invalid {data.provider} pool config: {exc}", param="config"
            ) from None
        pool_id = uuid.uuid4()
        sealed = (
            self._box.encrypt(json.dumps(data.credentials), f"pool:{pool_id}")
            if data.credentials
            else None
        )
        async with self._changes.apply(context) as change:
            pool = await self._store.create(pool_id, context.organization_id, data, config, sealed)
            change.audit(
                "pool.create",
                target=pool.id,
                details={"name": pool.name, "provider": pool.provider},
            )
        return pool

    async def delete(self, context: ActionContext, pool_id: str) -> None:
        row = await self._store.row(context.organization_id, pool_id)
        live = [s.value for s in DeploymentState if s != DeploymentState.TERMINATED]
        async with self._changes.apply(context) as change:
            async with wrap_errors():
                used = await Deployment.exists().where(
                    (Deployment.pool == row["id"]) & Deployment.state.is_in(live)
                )
            if used:
                raise ConflictError("the pool has deployments; terminate them first")
            async with wrap_errors():
                # Terminated deployments' history goes with the pool.
                await Deployment.delete().where(Deployment.pool == row["id"])
            await self._store.delete(context.organization_id, pool_id)
            change.audit("pool.delete", target=pool_id, details={"name": row["name"]})
