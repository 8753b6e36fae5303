"""The client's side of one /v1 request: its headers, its body, the reply, disconnects.

The /v1 POST endpoints are served beside Litestar, not through it (inferia.core.http_entry):
``ClientExchange`` is all the request flow (inferia.inference.flow) reads and writes of
the HTTP exchange, so the flow names no server interface. ``AsgiExchange`` implements it
over the ASGI ``scope``/``receive``/``send`` granian hands the entry.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from inferia.core.errors import InferiaError, PayloadTooLargeError, RequestTimeoutError
from inferia.core.http_errors import error_reply
from inferia.core.request_id import HEADER as REQUEST_ID_HEADER
from inferia.core.request_id import RequestIds

# How old a request must be before client disconnects are watched (see DisconnectWatch).
WATCH_GRACE_S = 0.02
# How long the last event and the end of a stream may wait on a client that does not
# read; past it the request gives the connection up (the server closes it).
STREAM_END_TIMEOUT_S = 10.0


class ClientGone(Exception):
    """The client closed the connection: nothing more can be read from or sent to it."""


class ClientExchange(Protocol):
    """One /v1 request as the request flow sees it."""

    request_id: str
    # The client's IP address (the peer's, or a trusted proxy's client's).
    client_address: str | None
    authorization: str | None

    @property
    def disconnected(self) -> bool:
        """Whether the disconnect watch saw the client leave."""
        ...

    async def read_body(self) -> bytes:
        """The whole body, at most ``server.max_body_bytes`` (else a 413); raises
        ClientGone if the client leaves on the way."""
        ...

    def watch_disconnect(self) -> None:
        """From now on a client that leaves cancels the request's task (DisconnectWatch)."""
        ...

    def stop_watching(self) -> None: ...

    async def answer(self, body: bytes, headers: dict[str, str], overhead_s: float) -> None:
        """A 200 with a JSON body, the steps' ``headers`` and the gateway's overhead."""
        ...

    async def answer_error(
        self,
        exc: InferiaError,
        headers: dict[str, str] | None = None,
        overhead_s: float | None = None,
    ) -> None:
        """``exc`` in the OpenAI error envelope, with the steps' ``headers`` unless the
        error carries its own; nothing when a reply already started."""
        ...

    async def open_stream(self, headers: dict[str, str], overhead_s: float) -> None:
        """Starts a 200 ``text/event-stream`` reply."""
        ...

    async def send_event(self, data: bytes) -> None:
        """Bytes of the stream; raises ClientGone when the server says the client left."""
        ...

    async def end_stream(self, event: bytes | None = None) -> None:
        """Sends ``event`` (an error event, if any) and ends the stream; does nothing
        once the stream ended. Bounded by ``STREAM_END_TIMEOUT_S``: a client that does
        not take the end in time is treated as gone (ClientGone)."""
        ...


def too_large(limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(f"The request body is larger than {limit} bytes.")


def _latin1(value: bytes | None) -> str | None:
    return value.decode("latin-1") if value is not None else None


_JSON = (b"content-type", b"application/json")
_SSE = (
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
)
_OVERHEAD = b"x-inferia-overhead-ms"


class AsgiExchange:
    """``ClientExchange`` over ASGI. One per request."""

    __slots__ = (
        "_body_timeout_s",
        "_headers",
        "_max_body",
        "_receive",
        "_send",
        "_started",
        "_streaming",
        "_watch",
        "authorization",
        "client_address",
        "request_id",
    )

    def __init__(
        self,
        scope: dict[str, Any],
        receive: Any,
        send: Any,
        request_ids: RequestIds,
        max_body: int,
        body_timeout_s: float = 30.0,
    ) -> None:
        # One pass over the header list; of a repeated header the last one counts.
        headers: dict[bytes, bytes] = dict(scope["headers"])
        self._headers = headers
        self._receive = receive
        self._send = send
        self._max_body = max_body
        self._body_timeout_s = body_timeout_s
        self._started = False  # the response started: errors go in the stream, if any
        self._streaming = False  # a stream is open: it must be ended (end_stream)
        self._watch: DisconnectWatch | None = None
        self.request_id = request_ids.choose(_latin1(headers.get(REQUEST_ID_HEADER)))
        client = scope.get("client")
        self.client_address = client[0] if client else None
        self.authorization = _latin1(headers.get(b"authorization"))

    @property
    def disconnected(self) -> bool:
        return self._watch is not None and self._watch.disconnected

    async def read_body(self) -> bytes:
        # A client trickling its body (slow loris) holds only its own connection, and
        # only for ``server.body_read_timeout_s``.
        try:
            async with asyncio.timeout(self._body_timeout_s):
                return await self._read_body()
        except TimeoutError:
            raise RequestTimeoutError(
                f"The request body was not received within {self._body_timeout_s:g} s."
            ) from None

    async def _read_body(self) -> bytes:
        limit = self._max_body
        declared = self._headers.get(b"content-length")
        expected: int | None = None
        if declared is not None and declared.isdigit():
            expected = int(declared)
            if expected > limit:
                raise too_large(limit)
        receive = self._receive
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # http.disconnect: the client left
                raise ClientGone
            chunk: bytes = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > limit:  # chunked: counted as it arrives, stopped at the limit
                    raise too_large(limit)
                parts.append(chunk)
            # With a declared length the body is whole once that much arrived: no wait
            # for the server's empty end-of-body message.
            if size == expected or not message.get("more_body", False):
                return parts[0] if len(parts) == 1 else b"".join(parts)

    def watch_disconnect(self) -> None:
        self._watch = DisconnectWatch(self._receive, WATCH_GRACE_S)

    def stop_watching(self) -> None:
        if self._watch is not None:
            self._watch.stop()

    def _closing_headers(self, overhead_s: float | None) -> list[tuple[bytes, bytes]]:
        headers = [(REQUEST_ID_HEADER, self.request_id.encode("latin-1"))]
        if overhead_s is not None:
            headers.append((_OVERHEAD, f"{overhead_s * 1000:.3f}".encode()))
        return headers

    async def answer(self, body: bytes, headers: dict[str, str], overhead_s: float) -> None:
        self._started = True
        await self._send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [_JSON, *_encoded(headers), *self._closing_headers(overhead_s)],
            }
        )
        await self._send({"type": "http.response.body", "body": body})

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
            own = {**headers, **own}  # the error's own x-ratelimit-* win
        await self._send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [_JSON, *_encoded(own), *self._closing_headers(overhead_s)],
            }
        )
        await self._send({"type": "http.response.body", "body": body})

    async def open_stream(self, headers: dict[str, str], overhead_s: float) -> None:
        self._started = True
        self._streaming = True
        await self._send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [*_SSE, *_encoded(headers), *self._closing_headers(overhead_s)],
            }
        )

    async def send_event(self, data: bytes) -> None:
        try:
            await self._send({"type": "http.response.body", "body": data, "more_body": True})
        except OSError as exc:  # servers that report a gone client on send
            raise ClientGone from exc

    async def end_stream(self, event: bytes | None = None) -> None:
        if not self._streaming:
            return
        self._streaming = False
        send = self._send
        try:
            async with asyncio.timeout(STREAM_END_TIMEOUT_S):
                if event:
                    await send({"type": "http.response.body", "body": event, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        except (OSError, TimeoutError) as exc:
            raise ClientGone from exc


def _encoded(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


class DisconnectWatch:
    """Cancels the request's task when the client goes away, which is what stops the
    upstream request at once (the server does not fail a send to a gone client: it
    drops it).

    Watching costs a task awaiting the server's disconnect message, a noticeable share
    of a short request's CPU, so it starts only once the request is ``grace_s`` old: a
    client that leaves is still noticed within ``grace_s`` plus the server's own delay.
    """

    __slots__ = ("_receive", "_target", "_task", "_timer", "disconnected")

    def __init__(self, receive: Any, grace_s: float) -> None:
        self.disconnected = False
        self._receive = receive
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
        message = await self._receive()
        if message["type"] != "http.disconnect":
            # The end-of-body message a body of declared length leaves unread.
            message = await self._receive()
        if message["type"] == "http.disconnect":
            self.disconnected = True
            self._target.cancel()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._task is not None:
            self._task.cancel()
            self._task = None
