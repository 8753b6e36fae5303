"""The model-definition port: the deployments defined through ``/management/models``.

The inference plane builds its routing table from these plus ``[[models]]`` in
inferia.toml. It loads them as one snapshot and reloads when a change is announced
on ``MODEL_CHANGES_CHANNEL`` (and on a TTL backstop); never per request.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from inferia.config import RoutingStrategy
from inferia.contracts.internal_client import InternalClient

# The routing strategies inferia.toml names: declared once, in config.
StrategyName = RoutingStrategy


class ModelEndpointDefinition(msgspec.Struct, frozen=True, kw_only=True):
    base_url: str
    # Decrypted: only ever handed to the inference plane (in process or over /internal).
    api_key: str = ""
    upstream_model: str = ""
    weight: int = 1
    connect_timeout_s: float | None = None
    request_timeout_s: float | None = None
    headers: dict[str, str] = msgspec.field(default_factory=dict)


class ModelDefinition(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    organization_id: str
    name: str
    routing_strategy: StrategyName | None = None
    endpoints: tuple[ModelEndpointDefinition, ...] = ()
    # The organisation's prompt template requests for this model get by default.
    template: str | None = None
    # The organisation's knowledge bases searched for requests that name none.
    knowledge_bases: tuple[str, ...] = ()
    # The defining process' ``inference.allow_private_api_upstreams``, which admitted
    # these URLs: the gateway enforces the same decision at connection time, so the
    # setting is one, read where the definitions are written (in split mode the
    # filtration process), whatever the inference process' own value.
    private_upstreams_allowed: bool = False


class ModelDefinitionSource(Protocol):
    """Every organisation's API-defined models, as one snapshot."""

    async def load(self) -> list[ModelDefinition]: ...


MODEL_CHANGES_CHANNEL = "inferia:models:changed"
MODELS_PATH = "/internal/models"


class RemoteModelSource:
    """The port's remote implementation: asks the filtration plane in another process."""

    def __init__(self, client: InternalClient) -> None:
        self._client = client
        self._decoder = msgspec.json.Decoder(list[ModelDefinition])

    async def load(self) -> list[ModelDefinition]:
        return await self._client.get(MODELS_PATH, self._decoder, what="a model listing")
