"""The route stage: the model a request names -> the deployment that serves it.

Which of the deployment's endpoints takes the request is its strategy's choice, made
by the upstream caller (inferia.inference.upstream.caller), attempt by attempt.
"""

from __future__ import annotations

from inferia.core.errors import NotFoundError, PermissionDeniedError
from inferia.inference.pipeline import RequestContext
from inferia.inference.routing.catalogue import ModelCatalogue
from inferia.inference.routing.table import Deployment


class Router:
    def __init__(self, catalogue: ModelCatalogue) -> None:
        self._catalogue = catalogue

    def route(self, ctx: RequestContext) -> Deployment:
        """The deployment of ``ctx.model`` for the caller's organisation; a 403 when the
        caller's key may not use the model, a 404 when it does not exist."""
        principal, model = ctx.principal, ctx.model
        if not principal.may_use(model):
            raise PermissionDeniedError(
                f"This API key may not use the model '{model}'.", param="model"
            )
        deployment = self._catalogue.table.find(principal.organization_id, model)
        if deployment is None:
            raise NotFoundError(f"The model '{model}' does not exist.", param="model")
        ctx.deployment = deployment.name
        ctx.default_template = deployment.template
        ctx.default_knowledge_bases = deployment.knowledge_bases
        return deployment
