"""The process' HTTP entry, on granian's ASGI interface: a few hot routes straight to
their handlers, everything else (and the lifespan) to the Litestar app.

The /v1 POST endpoints use none of Litestar's machinery (they read their own headers,
answer their own errors in the OpenAI envelope and set their own request id, from the
same sources as Litestar's routes): going around Litestar's router, middleware and
request parsing is most of what makes them cheap (docs/performance.md). Behind trusted
proxies the client's address is resolved here, once, for both kinds of route.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from litestar.types import ASGIApp

from inferia.core.client_address import ClientAddresses
from inferia.core.cors import Cors

# An ASGI handler: ``(scope, receive, send)``.
AsgiHandler = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
# Where the app factory leaves the direct routes, in the Litestar app's state.
DIRECT_ROUTES_STATE_KEY = "direct_routes"


class HttpEntry:
    __slots__ = ("_addresses", "_cors", "_routes", "app")

    def __init__(
        self,
        app: ASGIApp,
        routes: Mapping[str, AsgiHandler],
        addresses: ClientAddresses,
        cors: Cors | None = None,
    ) -> None:
        self.app = app
        self._routes = dict(routes)
        self._addresses = addresses
        self._cors = cors

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            if self._addresses.trusts_proxies:
                self._addresses.rewrite_client(scope)
            path: str = scope["path"]
            cors = self._cors
            if cors is not None and cors.applies(path):
                if await cors.preflight(scope, send):
                    return
                send = cors.wrap(scope, send)
            handler = self._routes.get(path)
            if handler is None and path.endswith("/"):
                handler = self._routes.get(path.rstrip("/"))
            if handler is not None:
                await handler(scope, receive, send)
                return
        await self.app(scope, receive, send)  # type: ignore[arg-type]
