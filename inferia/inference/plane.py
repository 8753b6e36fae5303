"""The inference (data) plane: the OpenAI-compatible API under /v1."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.types import ControllerRouterHandler

from inferia.filtration import PrincipalResolver
from inferia.inference.auth import Authenticator
from inferia.runtime import Runtime


class InferencePlane:
    def __init__(self, runtime: Runtime, principals: PrincipalResolver) -> None:
        self.runtime = runtime
        self.authenticator = Authenticator(principals)

    def routes(self) -> list[ControllerRouterHandler]:
        authenticator = self.authenticator

        class ModelsController(Controller):
            path = "/v1"

            @get("/models")
            async def list_models(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
                await authenticator.authenticate(request.headers.get("authorization"))
                return {"object": "list", "data": []}

        return [ModelsController]
