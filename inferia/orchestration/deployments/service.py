"""Deployments as users change them: deploy, scale, terminate; status, events, logs.

Users only write desired state (and the transitions it implies); the reconciler makes
it so. Each change wakes the reconciler through ``DEPLOYMENT_CHANGES_CHANNEL``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import msgspec

from inferia.contracts.endpoints import ENDPOINT_CHANGES_CHANNEL
from inferia.core.crypto import SecretBox
from inferia.core.errors import ConflictError, ValidationError
from inferia.orchestration.adapters.discovery import AdapterRegistry
from inferia.orchestration.adapters.protocol import ComputeAdapter
from inferia.orchestration.changes import ActionContext, Changes
from inferia.orchestration.deployments.lifecycle import ACTIVE_STATES, DeploymentState
from inferia.orchestration.deployments.schemas import (
    DeploymentRecord,
    DeployRequest,
    EventRecord,
)
from inferia.orchestration.deployments.spec import replica_spec, tell_pool
from inferia.orchestration.deployments.store import DeploymentStore, deployment_record
from inferia.orchestration.pools.store import PoolStore
from inferia.orchestration.registry.store import RegistryStore

DEPLOYMENT_CHANGES_CHANNEL = "inferia:deployments:changed"
S = DeploymentState


class DeploymentService:
    def __init__(
        self,
        store: DeploymentStore,
        pools: PoolStore,
        registry: RegistryStore,
        changes: Changes,
        adapters: AdapterRegistry,
        box: SecretBox,
    ) -> None:
        self._box = box
        self._store = store
        self._pools = pools
        self._registry = registry
        self._changes = changes
        self._adapters = adapters

    async def deploy(self, context: ActionContext, data: DeployRequest) -> DeploymentRecord:
        org = context.organization_id
        model = await self._registry.row(org, data.model, data.version)
        pool = await self._pools.row(org, data.pool_id)
        adapter = self._adapters.get(pool["provider"])
        self._check_replicas(adapter, pool, data.replicas)
        engine_args = (
            data.engine_args if data.engine_args is not None else json.loads(model["engine_args"])
        )
        resources = data.resources if data.resources is not None else model["resources"]
        values: dict[str, Any] = {
            "organization": org,
            "model": model["id"],
            "pool": pool["id"],
            "served_name": data.served_name or data.model,
            "desired_replicas": data.replicas,
            "engine_args": json.dumps(engine_args),
            "resources": resources
            if isinstance(resources, str)
            else msgspec.json.encode(resources).decode(),
            "routing_strategy": data.routing_strategy,
        }
        preview = replica_spec(
            {**values, "id": "preview"}, model, pool, replica_id="preview", api_key="preview"
        )
        try:
            adapter.check_replica(preview)
        except ValueError as exc:
            raise ValidationError(f"the pool cannot run this model: {exc}") from None
        async with self._changes.apply(context) as change:
            deployment_id = await self._store.create(values, context.actor)
            change.audit(
                "deployment.create",
                target=deployment_id,
                details={
                    "model": data.model,
                    "version": data.version,
                    "pool": data.pool_id,
                    "replicas": data.replicas,
                },
            )
            change.announce(DEPLOYMENT_CHANGES_CHANNEL, deployment_id)
        return await self.status(org, deployment_id)

    async def list_for(self, organization_id: str) -> list[DeploymentRecord]:
        rows = await self._store.list_for(organization_id)
        return [deployment_record(row, await self._endpoints(row)) for row in rows]

    async def status(self, organization_id: str, deployment_id: str) -> DeploymentRecord:
        row = await self._store.row(organization_id, deployment_id)
        return deployment_record(
            row, await self._endpoints(row), await self._store.events(row["id"])
        )

    async def events(self, organization_id: str, deployment_id: str) -> list[EventRecord]:
        row = await self._store.row(organization_id, deployment_id)
        return await self._store.events(row["id"])

    async def events_after(
        self, organization_id: str, deployment_id: str | None, after: int
    ) -> list[tuple[int, str, EventRecord]]:
        """Events recorded after sequence number ``after`` (one deployment, or all of
        the organisation's): what a watch sends next."""
        key = None
        if deployment_id is not None:
            key = (await self._store.row(organization_id, deployment_id))["id"]
        return await self._store.events_after(organization_id, key, after)

    async def last_event_seq(self) -> int:
        return await self._store.last_event_seq()

    async def scale(
        self, context: ActionContext, deployment_id: str, replicas: int
    ) -> DeploymentRecord:
        row = await self._store.row(context.organization_id, deployment_id)
        state = S(row["state"])
        if state not in ACTIVE_STATES and state != S.FAILED:
            raise ConflictError(f"a {state} deployment cannot be scaled")
        pool = await self._pools.row(context.organization_id, str(row["pool"]))
        self._check_replicas(self._adapters.get(pool["provider"]), pool, replicas)
        async with self._changes.apply(context) as change:
            await self._store.update(row, {"desired_replicas": replicas})
            reason = f"scaled from {row['desired_replicas']} to {replicas} replicas"
            if state == S.FAILED:
                await self._store.transition(row, S.PROVISIONING, reason, context.actor)
            else:
                await self._store.record_event(row, state, state, reason, context.actor)
            change.audit("deployment.scale", target=deployment_id, details={"replicas": replicas})
            change.announce(DEPLOYMENT_CHANGES_CHANNEL, deployment_id)
        return await self.status(context.organization_id, deployment_id)

    async def terminate(self, context: ActionContext, deployment_id: str) -> DeploymentRecord:
        row = await self._store.row(context.organization_id, deployment_id)
        if row["state"] not in (S.TERMINATING, S.TERMINATED):
            async with self._changes.apply(context) as change:
                await self._store.transition(
                    row, S.TERMINATING, "terminate requested", context.actor
                )
                # Its endpoints leave the routing table now, before the servers stop.
                await self._store.update(row, {"ready_replicas": 0})
                change.audit("deployment.terminate", target=deployment_id)
                change.announce(DEPLOYMENT_CHANGES_CHANNEL, deployment_id)
                change.announce(ENDPOINT_CHANGES_CHANNEL, deployment_id)
        return await self.status(context.organization_id, deployment_id)

    async def logs(
        self, organization_id: str, deployment_id: str, *, tail: int, follow: bool
    ) -> AsyncIterator[str]:
        row = await self._store.row(organization_id, deployment_id)
        pool = await self._pools.row(organization_id, str(row["pool"]))
        adapter = self._adapters.get(pool["provider"])
        # Any process serves logs, not only the reconciler's: say where the pods are.
        tell_pool(adapter, pool, self._box)
        return adapter.logs(str(row["id"]), tail=tail, follow=follow)

    async def _endpoints(self, row: dict[str, Any]) -> list[str]:
        replicas = await self._store.replicas(row["id"])
        return [r["endpoint"] for r in replicas if r["ready"] and r["endpoint"]]

    @staticmethod
    def _check_replicas(adapter: ComputeAdapter, pool: dict[str, Any], replicas: int) -> None:
        limit = adapter.max_replicas(json.loads(pool["config"]))
        if replicas > limit:
            raise ValidationError(f"the pool allows at most {limit} replicas", param="replicas")
