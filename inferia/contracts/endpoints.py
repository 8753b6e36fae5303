"""The live-endpoint port: model servers the orchestration plane runs and found ready.

The inference plane merges them into its routing table next to the model definitions
(``inferia.contracts.models``): it loads them as one snapshot and reloads when
``ENDPOINT_CHANGES_CHANNEL`` announces a change (a replica became ready, went away, a
deployment left RUNNING), and on its TTL backstop; never per request. In one process
the orchestration plane implements the port directly; in split mode
``RemoteLiveEndpointSource`` asks it over ``GET /internal/endpoints``.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from inferia.contracts.internal_client import InternalClient
from inferia.contracts.models import StrategyName


class LiveEndpoint(msgspec.Struct, frozen=True, kw_only=True):
    """One ready replica. ``api_key`` is the key Inferia generated for that model server:
    the gateway presents it, clients never see it."""

    replica_id: str
    base_url: str
    api_key: str = ""
    upstream_model: str = ""


class LiveDeployment(msgspec.Struct, frozen=True, kw_only=True):
    """A deployment's ready replicas under the model name its organisation's clients send."""

    id: str
    organization_id: str
    served_name: str
    routing_strategy: StrategyName | None = None
    endpoints: tuple[LiveEndpoint, ...] = ()


class LiveEndpointSource(Protocol):
    """Every organisation's deployments with at least one ready replica, as one snapshot."""

    async def load(self) -> list[LiveDeployment]: ...


ENDPOINT_CHANGES_CHANNEL = "inferia:endpoints:changed"
ENDPOINTS_PATH = "/internal/endpoints"


class RemoteLiveEndpointSource:
    """The port's remote implementation: asks the orchestration plane in another process."""

    def __init__(self, client: InternalClient) -> None:
        self._client = client
        self._decoder = msgspec.json.Decoder(list[LiveDeployment])

    async def load(self) -> list[LiveDeployment]:
        return await self._client.get(ENDPOINTS_PATH, self._decoder, what="the live endpoints")
