"""Runs an ASGI app (Litestar) behind granian's RSGI interface: each RSGI request
becomes an ASGI ``http`` scope with ``receive``/``send``, and the app's lifespan is
driven from RSGI's worker init and shutdown hooks, as granian's own ASGI interface does.

Only HTTP: the server runs with websockets off. Request bodies are streamed to the app
chunk by chunk (Litestar enforces its own body-size limit as it reads); a response is
sent in one piece when the app sends it in one message, streamed otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from typing import Any
from urllib.parse import quote

from granian.asgi import LifespanProtocol
from granian.rsgi import ProtocolClosed  # type: ignore[attr-defined]
from litestar.types import ASGIApp

from inferia.core.client_address import ClientAddresses

log = logging.getLogger(__name__)

_ASGI = {"version": "3.0", "spec_version": "2.3"}
# Characters a raw path keeps as they are (RSGI hands over the path decoded).
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
_PLAIN_PATH = re.compile(f"[A-Za-z0-9{re.escape(_PATH_SAFE)}]*")


class Lifespan:
    """The app's lifespan, started before the worker serves and stopped after."""

    def __init__(self, app: ASGIApp) -> None:
        self._protocol = LifespanProtocol(app)  # type: ignore[no-untyped-call]

    @property
    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = self._protocol.state
        return state

    async def startup(self) -> None:
        await self._protocol.startup()  # type: ignore[no-untyped-call]
        if self._protocol.interrupt:
            # As granian's ASGI worker does: the worker must not serve without start-up.
            log.error("start-up failed", exc_info=self._protocol.exc)
            sys.exit(1)

    async def shutdown(self) -> None:
        await self._protocol.shutdown()  # type: ignore[no-untyped-call]


async def call_asgi(
    app: ASGIApp, scope: Any, protocol: Any, state: dict[str, Any], addresses: ClientAddresses
) -> None:
    """Serve one RSGI HTTP request with the ASGI ``app``."""
    headers = scope.headers
    path: str = scope.path
    asgi_scope: dict[str, Any] = {
        "type": "http",
        "asgi": _ASGI,
        "http_version": scope.http_version,
        "method": scope.method,
        "scheme": scope.scheme,
        "path": path,
        "raw_path": path.encode("ascii") if _PLAIN_PATH.fullmatch(path) else _quoted(path),
        "query_string": scope.query_string.encode("latin-1"),
        "root_path": "",
        "headers": [
            (name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
        ],
        "client": split_address(scope.client),
        "server": split_address(scope.server),
        "state": state.copy(),
    }
    if addresses.trusts_proxies:
        addresses.rewrite_client(asgi_scope)
    # No body to stream (a GET, say): the first receive() answers without asking granian.
    has_body = "content-length" in headers or "transfer-encoding" in headers
    exchange = _Exchange(protocol, has_body)
    await app(asgi_scope, exchange.receive, exchange.send)  # type: ignore[arg-type]


def _quoted(path: str) -> bytes:
    return quote(path, safe=_PATH_SAFE).encode("ascii")


class _Exchange:
    """``receive`` and ``send`` of one request, over the RSGI protocol object."""

    __slots__ = (
        "_body",
        "_body_sent",
        "_complete",
        "_done",
        "_headers",
        "_protocol",
        "_status",
        "_stream",
    )

    def __init__(self, protocol: Any, has_body: bool) -> None:
        self._protocol = protocol
        self._body: Any = aiter(protocol) if has_body else None  # None once read
        self._body_sent = False  # the last http.request message went out
        self._status = 500
        self._headers: list[tuple[str, str]] = []
        self._stream: Any = None
        self._done = False  # the response is complete
        self._complete: asyncio.Future[None] | None = None  # what a receive() waits on

    async def receive(self) -> dict[str, Any]:
        if self._body is not None:
            try:
                chunk: bytes = await anext(self._body)
                return {"type": "http.request", "body": chunk, "more_body": True}
            except StopAsyncIteration:
                self._body = None
                self._body_sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            except ProtocolClosed:  # the client left mid-body
                self._body = None
                self._body_sent = True
                return {"type": "http.disconnect"}
        if not self._body_sent:
            self._body_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        # As ASGI servers do: ``http.disconnect`` once the client has gone or the response
        # is complete (Litestar's streaming responses wait for it to finish).
        if self._done:
            return {"type": "http.disconnect"}
        self._complete = asyncio.get_running_loop().create_future()
        gone = asyncio.ensure_future(self._protocol.client_disconnect())
        try:
            await asyncio.wait((gone, self._complete), return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
        return {"type": "http.disconnect"}

    def _completed(self) -> None:
        self._done = True
        if self._complete is not None and not self._complete.done():
            self._complete.set_result(None)

    async def send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self._status = message["status"]
            self._headers = [
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in message.get("headers", ())
            ]
        elif kind == "http.response.body":
            body: bytes = message.get("body", b"")
            more = message.get("more_body", False)
            if self._stream is None:
                if not more:
                    self._protocol.response_bytes(self._status, self._headers, body)
                    self._completed()
                    return
                self._stream = self._protocol.response_stream(self._status, self._headers)
            if body:
                try:
                    await self._stream.send_bytes(body)
                except ProtocolClosed as exc:  # the client has gone
                    raise OSError("the client closed the connection") from exc
            if not more:
                self._completed()


def split_address(value: str | None) -> tuple[str, int] | None:
    """RSGI's ``host:port`` (``[v6]:port`` for IPv6) as ASGI's ``(host, port)``."""
    if not value:
        return None
    host, _, port = value.rpartition(":")
    if not port.isdigit():
        return (value, 0)
    return (host.removeprefix("[").removesuffix("]"), int(port))
