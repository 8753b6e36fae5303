"""The live-endpoint port's in-process implementation, and ``GET /internal/endpoints``
which serves it to gateways in other processes (split mode)."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Controller, get

from inferia.contracts.endpoints import ENDPOINTS_PATH, LiveDeployment, LiveEndpoint
from inferia.core.crypto import DecryptionError, SecretBox
from inferia.db import wrap_errors
from inferia.orchestration.deployments.lifecycle import ROUTED_STATES
from inferia.orchestration.deployments.tables import Replica
from inferia.orchestration.internal_guard import internal_token_guard

log = logging.getLogger(__name__)


class LiveEndpoints:
    """Ready replicas of RUNNING and DEGRADED deployments, with their generated keys."""

    def __init__(self, box: SecretBox) -> None:
        self._box = box

    async def load(self) -> list[LiveDeployment]:
        async with wrap_errors():
            rows = await Replica.select(
                Replica.id,
                Replica.endpoint,
                Replica.api_key,
                Replica.deployment.id,
                Replica.deployment.organization,
                Replica.deployment.served_name,
                Replica.deployment.routing_strategy,
            ).where(
                (Replica.ready == True)  # noqa: E712 (a piccolo expression)
                & Replica.deployment.state.is_in([s.value for s in ROUTED_STATES])
            )
        grouped: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            grouped.setdefault(str(row["deployment.id"]), []).append(row)
        return [self._deployment(group) for group in grouped.values()]

    def _deployment(self, rows: list[dict[str, Any]]) -> LiveDeployment:
        first = rows[0]
        endpoints = []
        for row in rows:
            try:
                key = self._box.decrypt(row["api_key"], f"replica:{row['id']}")
            except DecryptionError:
                log.error("replica %s: its key does not open; not routed", row["id"])
                continue
            endpoints.append(
                LiveEndpoint(
                    replica_id=str(row["id"]),
                    base_url=row["endpoint"],
                    api_key=key,
                    upstream_model=first["deployment.served_name"],
                )
            )
        return LiveDeployment(
            id=str(first["deployment.id"]),
            organization_id=str(first["deployment.organization"]),
            served_name=first["deployment.served_name"],
            routing_strategy=first["deployment.routing_strategy"],
            endpoints=tuple(endpoints),
        )


def internal_endpoints_controller(source: LiveEndpoints, internal_token: str) -> type[Controller]:
    class InternalEndpointsController(Controller):
        path = ENDPOINTS_PATH
        guards = [internal_token_guard(internal_token)]
        include_in_schema = False

        @get("/")
        async def live_endpoints(self) -> list[LiveDeployment]:
            return await source.load()

    return InternalEndpointsController
