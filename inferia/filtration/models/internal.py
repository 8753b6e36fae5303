"""``GET /internal/models``: the model-definition port's server side in split mode."""

from __future__ import annotations

from litestar import Controller, get

from inferia.contracts.models import MODELS_PATH, ModelDefinition, ModelDefinitionSource
from inferia.filtration.internal import internal_token_guard


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
