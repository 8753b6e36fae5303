"""Deployments over gRPC, with ``Watch``: the organisation's deployment events as they
are recorded. Events are rows with increasing ids, so a watcher reads what follows the
last one it sent: woken by change events on the state backend (any process), and by a
short poll for the reconciler's transitions, which are not announced one by one."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from inferia.contracts.endpoints import ENDPOINT_CHANGES_CHANNEL
from inferia.orchestration.deployments.service import (
    DEPLOYMENT_CHANGES_CHANNEL,
    DeploymentService,
)
from inferia.orchestration.grpc_api import convert
from inferia.orchestration.grpc_api.guard import GrpcAccess
from inferia.orchestration.grpc_gen.inferia.orchestration import v1
from inferia.state import StateBackend

WATCH_POLL_S = 0.5
# Event ids are taken at insert, visible at commit: a user's transaction can commit its
# event after a later id is visible. A watcher only passes ids this old, so that it
# does not step over one still committing (transactions here last milliseconds).
SETTLE_S = 0.5


class DeploymentsGrpc(v1.ModelDeploymentServiceBase):
    def __init__(self, service: DeploymentService, state: StateBackend) -> None:
        self._service = service
        self._state = state

    async def deploy(self, message: v1.DeployRequest) -> v1.Deployment:
        context = GrpcAccess.context("deployments:write")
        record = await self._service.deploy(context, convert.deploy_request(message))
        return convert.deployment_message(record)

    async def get_deployment(self, message: v1.GetDeploymentRequest) -> v1.Deployment:
        caller = GrpcAccess.caller("deployments:read")
        record = await self._service.status(caller.organization_id, message.id)
        return convert.deployment_message(record)

    async def list_deployments(
        self, message: v1.ListDeploymentsRequest
    ) -> v1.ListDeploymentsResponse:
        caller = GrpcAccess.caller("deployments:read")
        records = await self._service.list_for(caller.organization_id)
        return v1.ListDeploymentsResponse(
            deployments=[convert.deployment_message(r) for r in records]
        )

    async def scale(self, message: v1.ScaleRequest) -> v1.Deployment:
        context = GrpcAccess.context("deployments:write")
        replicas = convert.scale_replicas(message.replicas)
        return convert.deployment_message(await self._service.scale(context, message.id, replicas))

    async def terminate(self, message: v1.TerminateRequest) -> v1.Deployment:
        context = GrpcAccess.context("deployments:write")
        return convert.deployment_message(await self._service.terminate(context, message.id))

    async def watch(self, message: v1.WatchRequest) -> AsyncIterator[v1.DeploymentEvent]:
        organization = GrpcAccess.caller("deployments:read").organization_id
        deployment_id = message.deployment_id or None
        after = message.after_seq
        if after == 0 and deployment_id is None:  # only what happens from now on
            after = await self._service.last_event_seq()
        # Before streaming: another organisation's deployment is NOT_FOUND at once.
        pending = await self._service.events_after(organization, deployment_id, after)
        wake = asyncio.Event()
        subscriptions = [
            await self._state.subscribe(channel, lambda _: wake.set())
            for channel in (DEPLOYMENT_CHANGES_CHANNEL, ENDPOINT_CHANGES_CHANNEL)
        ]
        try:
            while True:
                for seq, event_deployment, event in pending:
                    if _age_s(event.at) < SETTLE_S:
                        break  # read again next time, with whatever committed before it
                    after = seq
                    yield convert.event_message(event, event_deployment, seq)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(WATCH_POLL_S):
                        await wake.wait()
                wake.clear()
                pending = await self._service.events_after(organization, deployment_id, after)
        finally:
            for subscription in subscriptions:
                await subscription.close()


def _age_s(moment: datetime) -> float:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (datetime.now(UTC) - aware).total_seconds()
