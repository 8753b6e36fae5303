"""The process' server entry, on granian's RSGI interface: a few hot paths straight to
their RSGI handlers, everything else to the Litestar (ASGI) app through a bridge.

The /v1 POST endpoints use none of Litestar's machinery (they read their own headers,
answer their own errors in the OpenAI envelope and set their own request id), and RSGI
spares them ASGI's message dicts: the body arrives in one call, a reply leaves in one,
each relayed SSE event is one ``send_bytes``. Measured on the bare pass-through, RSGI
costs ~13% less CPU per request than ASGI on the same server (docs/performance.md).
The Litestar app, its lifespan included, runs unchanged behind ``asgi_bridge``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from litestar.types import ASGIApp

from inferia.core.asgi_bridge import Lifespan, call_asgi
from inferia.core.client_address import ClientAddresses

# An RSGI HTTP handler: ``(scope, protocol)`` as granian passes them.
RsgiHandler = Callable[[Any, Any], Awaitable[None]]
# Where the app factory leaves the RSGI direct routes, in the Litestar app's state.
RSGI_ROUTES_STATE_KEY = "rsgi_routes"


class RsgiApp:
    def __init__(
        self, app: ASGIApp, routes: Mapping[str, RsgiHandler], addresses: ClientAddresses
    ) -> None:
        self.app = app
        self._routes = dict(routes)
        self._lifespan = Lifespan(app)
        self._addresses = addresses

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        # Called before the worker's loop runs: start-up hooks complete before serving.
        loop.run_until_complete(self._lifespan.startup())

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.run_until_complete(self._lifespan.shutdown())

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        handler = self._find(scope.path)
        if handler is not None:
            await handler(scope, protocol)
        else:
            await call_asgi(self.app, scope, protocol, self._lifespan.state, self._addresses)

    def _find(self, path: str) -> RsgiHandler | None:
        handler = self._routes.get(path)
        if handler is None and path.endswith("/"):
            handler = self._routes.get(path.rstrip("/"))
        return handler
