"""The reconciler: while this process holds the lease, reconcile every live deployment.

Woken by deployment changes (``DEPLOYMENT_CHANGES_CHANNEL``) and every
``reconcile_interval_s``. A process that loses the lease stops the model servers it
started (the new leader starts its own: a replica runs in one place at a time).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid

from inferia.config import OrchestrationSettings
from inferia.contracts.endpoints import ENDPOINT_CHANGES_CHANNEL
from inferia.core.errors import InferiaError
from inferia.core.tasks import cancel_and_wait
from inferia.orchestration.adapters.discovery import AdapterRegistry
from inferia.orchestration.deployments.lifecycle import ACTIVE_STATES, DeploymentState
from inferia.orchestration.deployments.service import DEPLOYMENT_CHANGES_CHANNEL
from inferia.orchestration.deployments.store import DeploymentStore, StaleLeader
from inferia.orchestration.pools.store import PoolStore
from inferia.orchestration.reconciler.deployment_pass import ACTOR, DeploymentPass, PassContext
from inferia.orchestration.reconciler.lease import Lease
from inferia.orchestration.registry.store import RegistryStore
from inferia.state import StateBackend, Subscription

log = logging.getLogger(__name__)
_WORK_STATES = [s.value for s in (*ACTIVE_STATES, DeploymentState.TERMINATING)]


class Reconciler:
    def __init__(
        self,
        settings: OrchestrationSettings,
        state: StateBackend,
        lease_scope: str,
        deployments: DeploymentStore,
        pools: PoolStore,
        registry: RegistryStore,
        adapters: AdapterRegistry,
        deployment_pass: DeploymentPass,
    ) -> None:
        self._settings = settings
        self._state = state
        holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease = Lease(state, holder, settings.lease_ttl_s, lease_scope)
        self._deployments = deployments
        self._pools = pools
        self._registry = registry
        self._adapters = adapters
        self._pass = deployment_pass
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._subscription: Subscription | None = None

    async def start(self) -> None:
        self._subscription = await self._state.subscribe(
            DEPLOYMENT_CHANGES_CHANNEL, lambda _: self._wake.set()
        )
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        if self._subscription is not None:
            await self._subscription.close()
        if self._task is not None:
            await cancel_and_wait(self._task)
        # Our model servers stop with us; the lease goes at once to another process.
        await self._adapters.close()
        with contextlib.suppress(InferiaError):
            await self.lease.release()

    async def _run(self) -> None:
        # Renew well within the lease's life even when nothing changes.
        interval = min(self._settings.reconcile_interval_s, self._settings.lease_ttl_s / 3)
        leading = False
        while True:
            try:
                token = await self.lease.acquire_or_renew()
            except InferiaError as exc:
                log.warning("reconciler lease unavailable: %s", exc)
                token = 0
            if leading and not token:
                log.warning("reconciler lease lost: stopping this process' model servers")
                await self._adapters.close()
            if token and not leading:
                log.info("this process now reconciles (lease token %d)", token)
            leading = bool(token)
            if leading:
                try:
                    await self.reconcile_all(token)
                except StaleLeader as exc:
                    log.warning("%s", exc)
                except Exception:
                    log.exception("reconciliation pass failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await self._wake.wait()
            self._wake.clear()

    async def reconcile_all(self, token: int) -> None:
        routing_changed = False
        for row in await self._deployments.active(_WORK_STATES):
            try:
                routing_changed |= await self._reconcile(row, token)
            except StaleLeader:
                raise
            except InferiaError as exc:
                log.warning("deployment %s: %s", row["id"], exc.message)
            except Exception:
                # An adapter's bug fails its own deployment's pass, not everyone's.
                log.exception("deployment %s: reconciliation failed", row["id"])
        if routing_changed:
            await self._state.publish(ENDPOINT_CHANGES_CHANNEL, b"*")

    async def _reconcile(self, row: dict[str, object], token: int) -> bool:
        pool = await self._pools.row_by_id(str(row["pool"]))
        model = await self._registry.row_by_id(row["model"])
        if pool is None or model is None:  # cannot happen: foreign keys restrict deletes
            return False
        try:
            adapter = self._adapters.get(pool["provider"])
        except InferiaError as exc:
            if row["state"] != DeploymentState.TERMINATING:
                await self._deployments.transition(
                    dict(row),
                    DeploymentState.FAILED,
                    exc.message,
                    ACTOR,
                    fence=token,
                    error=exc.message,
                )
                return False
            adapter = None
        if adapter is None:
            await self._deployments.transition(
                dict(row), DeploymentState.TERMINATED, "no adapter to stop", ACTOR, fence=token
            )
            return True
        return await self._pass.run(PassContext(dict(row), model, pool, adapter, token))
