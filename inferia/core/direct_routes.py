"""The process' ASGI entry: a few hot paths straight to their raw handlers, the rest to
Litestar.

The /v1 POST endpoints are raw ASGI handlers already; reaching them through Litestar's
app, router and middleware stack costs a wrapper call on every request and on every
``send`` (every relayed SSE event), for nothing those endpoints use: they read their
own headers, answer their own errors in the OpenAI envelope and set their own request
id. Everything else, lifespan included, goes to the Litestar app unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

# Where the app factory leaves the direct routes, in the Litestar app's state.
DIRECT_ROUTES_STATE_KEY = "direct_routes"


class DirectRoutes:
    def __init__(self, app: ASGIApp, routes: Mapping[str, ASGIApp]) -> None:
        self.app = app
        self._routes = dict(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            handler = self._find(scope["path"])
            if handler is not None:
                await handler(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _find(self, path: str) -> Any:
        handler = self._routes.get(path)
        if handler is None and path.endswith("/"):
            handler = self._routes.get(path.rstrip("/"))
        return handler
