"""GET /v1/models and /v1/models/{id}: the models the caller's key may use."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath

from inferia.core.errors import NotFoundError
from inferia.inference.auth import Authenticator
from inferia.inference.routing.catalogue import ModelCatalogue
from inferia.inference.routing.table import Deployment


def _card(deployment: Deployment) -> dict[str, Any]:
    return {
        "id": deployment.name,
        "object": "model",
        "created": 0,
        "owned_by": deployment.organization_id or "inferia",
    }


def model_listing_controller(
    authenticator: Authenticator, catalogue: ModelCatalogue
) -> type[Controller]:
    class ModelListingController(Controller):
        path = "/v1/models"

        @get("/")
        async def list_models(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
            principal = await authenticator.authenticate(request.headers.get("authorization"))
            data = [
                _card(deployment)
                for deployment in catalogue.table.visible(principal.organization_id)
                if principal.may_use(deployment.name)
            ]
            return {"object": "list", "data": data}

        @get("/{model_id:path}")
        async def get_model(
            self, request: Request[Any, Any, Any], model_id: FromPath[str]
        ) -> dict[str, Any]:
            principal = await authenticator.authenticate(request.headers.get("authorization"))
            name = model_id.lstrip("/")
            deployment = catalogue.table.find(principal.organization_id, name)
            if deployment is None or not principal.may_use(name):
                raise NotFoundError(f"The model '{name}' does not exist.", param="model")
            return _card(deployment)

    return ModelListingController
