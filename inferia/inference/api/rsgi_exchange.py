"""``ClientExchange`` over granian's RSGI interface, and the /v1 endpoints served on it
by ``inferia.core.rsgi`` (the entry measured against ``inferia.core.http_entry``'s ASGI
one, docs/performance.md).

A request is a scope with a header map and a protocol object that reads the body and
writes the response, with no ASGI message dicts per read and per write.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from granian.rsgi import ProtocolClosed  # type: ignore[attr-defined]

from inferia.core.asgi_bridge import split_address
from inferia.core.client_address import ClientAddresses
from inferia.core.errors import InferiaError
from inferia.core.http_errors import error_reply
from inferia.core.logging import current_request_id
from inferia.core.request_id import RequestIds
from inferia.core.rsgi import RsgiHandler
from inferia.inference.api.endpoints import MethodNotAllowedError
from inferia.inference.api.exchange import WATCH_GRACE_S, ClientGone, too_large
from inferia.inference.flow import PATHS, RequestFlow
from inferia.inference.pipeline import Api

Headers = list[tuple[str, str]]
_JSON: Headers = [("content-type", "application/json")]
_SSE: Headers = [
    ("content-type", "text/event-stream; charset=utf-8"),
    ("cache-control", "no-cache"),
    ("x-accel-buffering", "no"),
]


def rsgi_routes(
    flow: RequestFlow, request_ids: RequestIds, max_body: int, addresses: ClientAddresses
) -> dict[str, RsgiHandler]:
    def handler(api: Api) -> RsgiHandler:
        async def endpoint(scope: Any, protocol: Any) -> None:
            arrived = time.perf_counter()
            client = RsgiExchange(scope, protocol, request_ids, max_body, addresses)
            token = current_request_id.set(client.request_id)
            try:
                if scope.method != "POST":
                    await client.answer_error(MethodNotAllowedError("Only POST is allowed here."))
                    flow.requests[api, MethodNotAllowedError.status_code] += 1
                    return
                await flow.run(api, client, arrived)
            finally:
                current_request_id.reset(token)

        return endpoint

    return {f"/v1{path}": handler(api) for api, path in PATHS.items()}


class RsgiExchange:
    __slots__ = (
        "_max_body",
        "_protocol",
        "_scope",
        "_started",
        "_transport",
        "_watch",
        "authorization",
        "client_address",
        "request_id",
    )

    def __init__(
        self,
        scope: Any,
        protocol: Any,
        request_ids: RequestIds,
        max_body: int,
        addresses: ClientAddresses,
    ) -> None:
        headers = scope.headers
        self._scope = scope
        self._protocol = protocol
        self._max_body = max_body
        self._started = False
        self._transport: Any = None
        self._watch: _DisconnectWatch | None = None
        self.request_id = request_ids.choose(headers.get("x-request-id"))
        self.authorization: str | None = headers.get("authorization")
        address = split_address(scope.client)
        peer = address[0] if address else None
        if addresses.trusts_proxies:
            values = [value for name, value in headers.items() if name == "x-forwarded-for"]
            peer = addresses.resolve(peer, ", ".join(values) if values else None)
        self.client_address = peer

    @property
    def disconnected(self) -> bool:
        return self._watch is not None and self._watch.disconnected

    async def read_body(self) -> bytes:
        limit = self._max_body
        declared = self._scope.headers.get("content-length")
        protocol = self._protocol
        try:
            if declared is not None and declared.isdigit():
                if int(declared) > limit:
                    raise too_large(limit)
                # The server reads no more than the declared length: one call, one buffer.
                body: bytes = await protocol()
                return body
            chunks: list[bytes] = []  # chunked: count as it arrives, stop at the limit
            size = 0
            async for chunk in protocol:
                size += len(chunk)
                if size > limit:
                    raise too_large(limit)
                chunks.append(chunk)
            return b"".join(chunks)
        except ProtocolClosed as exc:  # the client left mid-body
            raise ClientGone from exc

    def watch_disconnect(self) -> None:
        self._watch = _DisconnectWatch(self._protocol, WATCH_GRACE_S)

    def stop_watching(self) -> None:
        if self._watch is not None:
            self._watch.stop()

    def _closing(self, overhead_s: float | None) -> Headers:
        headers = [("x-request-id", self.request_id)]
        if overhead_s is not None:
            headers.append(("x-inferia-overhead-ms", f"{overhead_s * 1000:.3f}"))
        return headers

    async def answer(self, body: bytes, headers: dict[str, str], overhead_s: float) -> None:
        self._started = True
        self._protocol.response_bytes(
            200, [*_JSON, *headers.items(), *self._closing(overhead_s)], body
        )

    async def answer_error(
        self,
        exc: InferiaError,
        headers: dict[str, str] | None = None,
        overhead_s: float | None = None,
    ) -> None:
        if self._started:
            return
        self._started = True
        status, own, body = error_reply(exc)
        if headers:
            own = {**headers, **own}
        self._protocol.response_bytes(
            status, [*_JSON, *own.items(), *self._closing(overhead_s)], body
        )

    async def open_stream(self, headers: dict[str, str], overhead_s: float) -> None:
        self._started = True
        self._transport = self._protocol.response_stream(
            200, [*_SSE, *headers.items(), *self._closing(overhead_s)]
        )

    async def send_event(self, data: bytes) -> None:
        try:
            await self._transport.send_bytes(data)
        except ProtocolClosed as exc:
            raise ClientGone from exc

    async def close_stream(self) -> None:
        pass  # the stream ends when the handler returns


class _DisconnectWatch:
    __slots__ = ("_protocol", "_target", "_task", "_timer", "disconnected")

    def __init__(self, protocol: Any, grace_s: float) -> None:
        self.disconnected = False
        self._protocol = protocol
        current = asyncio.current_task()
        assert current is not None
        self._target = current
        self._task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = asyncio.get_running_loop().call_later(
            grace_s, self._arm
        )

    def _arm(self) -> None:
        self._timer = None
        self._task = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        await self._protocol.client_disconnect()
        self.disconnected = True
        self._target.cancel()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._task is not None:
            self._task.cancel()
            self._task = None
