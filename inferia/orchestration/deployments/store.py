"""Deployment, replica and event rows. Reads by users are filtered by organisation; the
reconciler's writes carry its lease token (``fence``): a deposed leader's late write
to a deployment a newer leader has touched is refused."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec

from inferia.core.errors import NotFoundError
from inferia.db import wrap_errors
from inferia.orchestration.adapters.protocol import Resources
from inferia.orchestration.deployments.lifecycle import DeploymentState, check_transition
from inferia.orchestration.deployments.schemas import (
    DeploymentRecord,
    EventRecord,
    ReplicaCounts,
)
from inferia.orchestration.deployments.tables import Deployment, DeploymentEvent, Replica
from inferia.orchestration.ids import parse_id

_COLUMNS = (
    *Deployment.all_columns(),
    Deployment.model.name,
    Deployment.model.version,
)


class StaleLeader(Exception):
    """The reconciler lost its lease: another leader has written this deployment."""


class DeploymentStore:
    async def row(self, organization_id: str, deployment_id: str) -> dict[str, Any]:
        key = parse_id(deployment_id, "deployment")
        async with wrap_errors():
            row = (
                await Deployment.select(*_COLUMNS)
                .where((Deployment.id == key) & (Deployment.organization == organization_id))
                .first()
            )
        if row is None:
            raise NotFoundError(f"deployment {deployment_id} not found")
        return row

    async def list_for(self, organization_id: str) -> list[dict[str, Any]]:
        async with wrap_errors():
            return (
                await Deployment.select(*_COLUMNS)
                .where(Deployment.organization == organization_id)
                .order_by(Deployment.created_at)
            )

    async def active(self, states: list[str]) -> list[dict[str, Any]]:
        """Every organisation's deployments in ``states`` (the reconciler's work list)."""
        async with wrap_errors():
            return await Deployment.select(*_COLUMNS).where(Deployment.state.is_in(states))

    async def create(self, values: dict[str, Any], actor: str) -> str:
        deployment_id = uuid.uuid4()
        async with wrap_errors():
            await Deployment(id=deployment_id, state=DeploymentState.PENDING, **values).save()
            await DeploymentEvent(
                deployment=deployment_id,
                organization=values["organization"],
                from_state=None,
                to_state=DeploymentState.PENDING,
                reason="deployment requested",
                actor=actor,
            ).save()
        return str(deployment_id)

    async def transition(
        self,
        row: dict[str, Any],
        target: DeploymentState,
        reason: str,
        actor: str,
        *,
        fence: int = 0,
        error: str | None = None,
    ) -> None:
        """Move the deployment (checked against the lifecycle table) and record the event."""
        current = DeploymentState(row["state"])
        if current != target:
            check_transition(current, target)
        values: dict[Any, Any] = {
            Deployment.state: target,
            Deployment.updated_at: datetime.now(UTC),
            Deployment.error: error,
        }
        await self._update(row["id"], values, fence, expect_state=current)
        await self.record_event(row, current, target, reason, actor)
        row["state"], row["error"] = target.value, error

    async def record_event(
        self,
        row: dict[str, Any],
        current: DeploymentState | None,
        target: DeploymentState,
        reason: str,
        actor: str,
    ) -> None:
        async with wrap_errors():
            await DeploymentEvent(
                deployment=row["id"],
                organization=row["organization"],
                from_state=current,
                to_state=target,
                reason=reason[:2000],
                actor=actor[:64],
            ).save()

    async def update(self, row: dict[str, Any], values: dict[Any, Any], *, fence: int = 0) -> None:
        await self._update(row["id"], {**values, Deployment.updated_at: datetime.now(UTC)}, fence)

    async def _update(
        self,
        deployment_id: Any,
        values: dict[Any, Any],
        fence: int,
        expect_state: DeploymentState | None = None,
    ) -> None:
        condition = Deployment.id == deployment_id
        if fence:
            condition &= Deployment.fence <= fence
            values = {**values, Deployment.fence: fence}
        if expect_state is not None:
            condition &= Deployment.state == expect_state
        async with wrap_errors():
            changed = await Deployment.update(values).where(condition).returning(Deployment.id)
        if not changed:
            if fence:
                raise StaleLeader(f"deployment {deployment_id} changed under a newer leader")
            raise NotFoundError(f"deployment {deployment_id} changed meanwhile; try again")

    async def events(self, deployment_id: Any) -> list[EventRecord]:
        async with wrap_errors():
            rows = (
                await DeploymentEvent.select()
                .where(DeploymentEvent.deployment == deployment_id)
                .order_by(DeploymentEvent.id)
            )
        return [_event(r) for r in rows]

    async def events_after(
        self, organization_id: str, deployment_id: Any | None, after: int, limit: int = 500
    ) -> list[tuple[int, str, EventRecord]]:
        """(seq, deployment id, event) of the organisation's events after ``after``."""
        condition = (DeploymentEvent.organization == organization_id) & (DeploymentEvent.id > after)
        if deployment_id is not None:
            condition &= DeploymentEvent.deployment == deployment_id
        async with wrap_errors():
            rows = (
                await DeploymentEvent.select()
                .where(condition)
                .order_by(DeploymentEvent.id)
                .limit(limit)
            )
        return [(r["id"], str(r["deployment"]), _event(r)) for r in rows]

    async def last_event_seq(self) -> int:
        async with wrap_errors():
            row = (
                await DeploymentEvent.select(DeploymentEvent.id)
                .order_by(DeploymentEvent.id, ascending=False)
                .first()
            )
        return int(row["id"]) if row else 0

    # Replicas ------------------------------------------------------------------
    async def replicas(self, deployment_id: Any) -> list[dict[str, Any]]:
        async with wrap_errors():
            return (
                await Replica.select(*Replica.all_columns(), Replica.node.state)
                .where(Replica.deployment == deployment_id)
                .order_by(Replica.ordinal)
            )

    async def add_replica(
        self, deployment_id: Any, ordinal: int, sealed_key: str, replica_id: uuid.UUID
    ) -> None:
        async with wrap_errors():
            await Replica(
                id=replica_id, deployment=deployment_id, ordinal=ordinal, api_key=sealed_key
            ).save()

    async def update_replica(self, replica_id: Any, values: dict[Any, Any]) -> None:
        async with wrap_errors():
            await Replica.update(values).where(Replica.id == replica_id)

    async def remove_replica(self, replica_id: Any) -> None:
        async with wrap_errors():
            await Replica.delete().where(Replica.id == replica_id)


def deployment_record(
    row: dict[str, Any], endpoints: list[str], events: list[EventRecord] | None = None
) -> DeploymentRecord:
    return DeploymentRecord(
        id=str(row["id"]),
        state=row["state"],
        model=row["model.name"],
        version=row["model.version"],
        pool_id=str(row["pool"]),
        served_name=row["served_name"],
        replicas=ReplicaCounts(desired=row["desired_replicas"], ready=row["ready_replicas"]),
        endpoints=endpoints,
        error=row["error"],
        engine_args=json.loads(row["engine_args"]),
        resources=msgspec.json.decode(row["resources"], type=Resources),
        routing_strategy=row["routing_strategy"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        events=events or [],
    )


def _event(row: dict[str, Any]) -> EventRecord:
    return EventRecord(
        at=row["created_at"],
        from_state=row["from_state"],
        to_state=row["to_state"],
        reason=row["reason"],
        actor=row["actor"],
    )
