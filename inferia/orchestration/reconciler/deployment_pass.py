"""One reconciliation of one deployment: compare desired with observed, act, record.

Idempotent: every adapter call is keyed by a replica id that is stored before the
adapter is asked, so a pass repeated after a restart (or by a new leader) finds the row
and provisions only what the adapter does not know ("gone"): nothing twice, nothing
orphaned. Writes carry the lease's fencing token.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from inferia.core.crypto import SecretBox
from inferia.orchestration.adapters.protocol import ComputeAdapter, ReplicaStatus
from inferia.orchestration.deployments.lifecycle import DeploymentState
from inferia.orchestration.deployments.spec import replica_spec, tell_pool
from inferia.orchestration.deployments.store import DeploymentStore
from inferia.orchestration.deployments.tables import Deployment, Replica
from inferia.orchestration.nodes.health import NodeState
from inferia.orchestration.reconciler.probe import ReadinessProbe

log = logging.getLogger(__name__)
S = DeploymentState
ACTOR = "reconciler"


@dataclass(slots=True)
class PassContext:
    deployment: dict[str, Any]
    model: dict[str, Any]
    pool: dict[str, Any]
    adapter: ComputeAdapter
    fence: int


class DeploymentPass:
    def __init__(
        self,
        store: DeploymentStore,
        box: SecretBox,
        probe: ReadinessProbe,
        readiness_timeout_s: float,
        drain_s: float,
    ) -> None:
        self._store = store
        self._box = box
        self._probe = probe
        self._readiness_timeout_s = readiness_timeout_s
        self._drain_s = drain_s

    async def run(self, ctx: PassContext) -> bool:
        """Reconcile; True when the routed endpoints may have changed."""
        row = ctx.deployment
        tell_pool(ctx.adapter, ctx.pool, self._box)
        replicas = await self._store.replicas(row["id"])
        if row["state"] == S.TERMINATING:
            # Out of routing since the terminate request (its last write): the servers
            # finish what they have before they are stopped.
            if _age_s(row["updated_at"]) < self._drain_s:
                return False
            await self._stop_all(ctx, replicas)
            await self._store.transition(
                row, S.TERMINATED, "all replicas stopped", ACTOR, fence=ctx.fence
            )
            return True
        desired = row["desired_replicas"]
        routing_changed = await self._drop_lost(ctx, replicas)
        replicas = [r for r in replicas if r["node.state"] != NodeState.LOST]
        for replica in replicas[desired:]:  # scaled down: the highest ordinals go
            routing_changed |= await self._drain(ctx, replica)
        replicas = replicas[:desired]
        used = {r["ordinal"] for r in replicas}
        for ordinal in (n for n in range(desired * 2) if n not in used):
            if len(replicas) >= desired:
                break
            replicas.append(await self._add_replica(ctx, ordinal))
        if row["state"] == S.PENDING and desired:
            await self._store.transition(
                row, S.PROVISIONING, f"provisioning {desired} replicas", ACTOR, fence=ctx.fence
            )
        ready = 0
        for replica in replicas:
            outcome = await self._observe(ctx, replica)
            if isinstance(outcome, str):  # the deployment failed
                await self._stop_all(ctx, replicas)
                await self._store.update(row, {Deployment.ready_replicas: 0}, fence=ctx.fence)
                await self._store.transition(
                    row, S.FAILED, outcome, ACTOR, fence=ctx.fence, error=outcome
                )
                return True
            is_ready, changed = outcome
            ready += is_ready
            routing_changed |= changed
        await self._settle_state(ctx, desired, ready, replicas)
        return routing_changed

    async def _drain(self, ctx: PassContext, replica: dict[str, Any]) -> bool:
        """Out of routing first, stopped ``drain_s`` later: requests in flight finish.
        True when it just left routing."""
        since = replica["draining_since"]
        if since is None:
            values = {Replica.ready: False, Replica.draining_since: datetime.now(UTC)}
            await self._store.update_replica(replica["id"], values)
            return bool(replica["ready"])
        if _age_s(since) >= self._drain_s:
            await ctx.adapter.deprovision(str(replica["id"]))
            await self._store.remove_replica(replica["id"])
        return False

    async def _drop_lost(self, ctx: PassContext, replicas: list[dict[str, Any]]) -> bool:
        """Replicas on a LOST node are gone for good: forget them (the caller adds
        replacements under new ids). True when one of them was routed."""
        routed = False
        for replica in replicas:
            if replica["node.state"] != NodeState.LOST:
                continue
            try:
                await ctx.adapter.deprovision(str(replica["id"]))
            except Exception as exc:  # the node is unreachable: nothing more to free
                log.warning("replica %s on a lost node: deprovision failed: %s", replica["id"], exc)
            await self._store.remove_replica(replica["id"])
            state = S(ctx.deployment["state"])
            reason = (
                f"replica {replica['ordinal']} was on lost node {replica['node']}; replacing it"
            )
            await self._store.record_event(ctx.deployment, state, state, reason, ACTOR)
            routed |= bool(replica["ready"])
        return routed

    async def _add_replica(self, ctx: PassContext, ordinal: int) -> dict[str, Any]:
        replica_id = uuid.uuid4()
        api_key = "sk-inferia-" + secrets.token_urlsafe(32)
        sealed = self._box.encrypt(api_key, f"replica:{replica_id}")
        # The row first: a restart between the two finds it and provisions it ("gone").
        await self._store.add_replica(ctx.deployment["id"], ordinal, sealed, replica_id)
        await self._provision(ctx, str(replica_id), api_key)
        rows = [
            r
            for r in await self._store.replicas(ctx.deployment["id"])
            if str(r["id"]) == str(replica_id)
        ]
        return rows[0]

    async def _provision(self, ctx: PassContext, replica_id: str, api_key: str) -> None:
        spec = replica_spec(
            ctx.deployment, ctx.model, ctx.pool, replica_id=replica_id, api_key=api_key
        )
        handle = await ctx.adapter.provision(spec)
        if handle:
            await self._store.update_replica(replica_id, {Replica.handle: handle})

    async def _observe(self, ctx: PassContext, replica: dict[str, Any]) -> tuple[bool, bool] | str:
        """(ready, routing changed), or the reason the deployment failed."""
        replica_id = str(replica["id"])
        api_key = self._box.decrypt(replica["api_key"], f"replica:{replica_id}")
        status = await ctx.adapter.observe(replica_id)
        if status.phase == "gone":
            log.info("replica %s unknown to the adapter: provisioning it", replica_id)
            await self._provision(ctx, replica_id, api_key)
            status = ReplicaStatus(phase="starting")
        if status.phase == "failed":
            return f"replica {replica['ordinal']} failed: {status.detail}"
        ready = (
            status.phase == "running"
            and status.endpoint is not None
            and (await self._probe.ready(status.endpoint, api_key))
        )
        values: dict[Any, Any] = {}
        if ready and (not replica["ready"] or replica["endpoint"] != status.endpoint):
            values = {
                Replica.ready: True,
                Replica.endpoint: status.endpoint,
                Replica.ready_at: replica["ready_at"] or datetime.now(UTC),
            }
        elif not ready and replica["ready"]:
            values = {Replica.ready: False}
        if replica["draining_since"] is not None:  # scaled up again while draining
            values[Replica.draining_since] = None
        if status.restarts != replica["restarts"] or status.detail != (replica["detail"] or ""):
            values |= {Replica.restarts: status.restarts, Replica.detail: status.detail or None}
        if values:
            await self._store.update_replica(replica["id"], values)
        if not ready and replica["ready_at"] is None:
            age = (datetime.now(UTC) - _aware(replica["created_at"])).total_seconds()
            if age > self._readiness_timeout_s:
                why = f": {status.detail}" if status.detail else ""
                return (
                    f"replica {replica['ordinal']} was not ready within "
                    f"{self._readiness_timeout_s:g} s{why}"
                )
        return ready, ready != bool(replica["ready"])

    async def _settle_state(
        self, ctx: PassContext, desired: int, ready: int, replicas: list[dict[str, Any]]
    ) -> None:
        row = ctx.deployment
        state = S(row["state"])
        if ready != row["ready_replicas"]:
            await self._store.update(row, {Deployment.ready_replicas: ready}, fence=ctx.fence)
            row["ready_replicas"] = ready
        target = state
        if ready >= desired:
            target = S.RUNNING
        elif state in (S.RUNNING, S.DEGRADED):
            target = S.DEGRADED
        elif state == S.PROVISIONING and len(replicas) >= desired:
            target = S.STARTING
        if target != state:
            await self._store.transition(
                row, target, f"{ready}/{desired} replicas ready", ACTOR, fence=ctx.fence
            )

    async def _stop_all(self, ctx: PassContext, replicas: list[dict[str, Any]]) -> None:
        for replica in replicas:
            await ctx.adapter.deprovision(str(replica["id"]))
            await self._store.remove_replica(replica["id"])
        if replicas or ctx.deployment["ready_replicas"]:
            await self._store.update(
                ctx.deployment, {Deployment.ready_replicas: 0}, fence=ctx.fence
            )
            ctx.deployment["ready_replicas"] = 0


def _age_s(moment: datetime) -> float:
    return (datetime.now(UTC) - _aware(moment)).total_seconds()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
