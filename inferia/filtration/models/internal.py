"""``GET /internal/models`` (the model-definition port in split mode) and its client."""

from __future__ import annotations

import msgspec
from litestar import Controller, get

from inferia.filtration.internal import internal_token_guard
from inferia.filtration.internal_client import InternalClient
from inferia.filtration.models.port import MODELS_PATH, ModelDefinition, ModelDefinitionSource


def internal_models_controller(
    source: ModelDefinitionSource, internal_token: str
) -> type[Controller]:
    class InternalModelsController(Controller):
        path = MODELS_PATH
        guards = [internal_token_guard(internal_token)]
        include_in_schema = False

        @get("/")
        async def models(self) -> list[ModelDefinition]:
            return await source.load()

    return InternalModelsController


class RemoteModelSource:
    """The port's remote implementation: asks the filtration plane in another process."""

    def __init__(self, client: InternalClient) -> None:
        self._client = client
        self._decoder = msgspec.json.Decoder(list[ModelDefinition])

    async def load(self) -> list[ModelDefinition]:
        return await self._client.get(MODELS_PATH, self._decoder, what="a model listing")
