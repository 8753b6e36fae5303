"""``GET /internal/models`` (the model-definition port in split mode) and its client."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import msgspec
from litestar import Controller, get

from inferia.core.errors import RemoteServiceError
from inferia.filtration.internal import internal_token_guard
from inferia.filtration.models.port import MODELS_PATH, ModelDefinition, ModelDefinitionSource
from inferia.filtration.ports import INTERNAL_TOKEN_HEADER


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

    def __init__(
        self,
        session: Callable[[], aiohttp.ClientSession],
        base_url: str,
        internal_token: str,
        timeout_s: float,
    ) -> None:
        self._session = session
        self._url = base_url.rstrip("/") + MODELS_PATH
        self._headers = {INTERNAL_TOKEN_HEADER: internal_token}
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._decoder = msgspec.json.Decoder(list[ModelDefinition])

    async def load(self) -> list[ModelDefinition]:
        try:
            async with self._session().get(
                self._url, headers=self._headers, timeout=self._timeout
            ) as response:
                if response.status != 200:
                    raise RemoteServiceError(
                        f"filtration plane answered {response.status} to a model listing"
                    )
                return self._decoder.decode(await response.read())
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RemoteServiceError(
                f"filtration plane unreachable: {type(exc).__name__}"
            ) from None
