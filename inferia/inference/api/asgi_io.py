"""Raw ASGI helpers of the /v1 hot path: headers, body, responses, disconnects.

The POST endpoints skip Litestar's request parsing and response building (they cost a
large share of the CPU budget); everything they need is here.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

import msgspec

from inferia.core.errors import InferiaError, PayloadTooLargeError, RateLimitedError
from inferia.core.http_errors import error_body
from inferia.core.request_id import HEADER as REQUEST_ID_HEADER
from inferia.core.request_id import incoming_request_id

Headers = list[tuple[bytes, bytes]]
JSON_HEADERS: Headers = [(b"content-type", b"application/json")]
SSE_HEADERS: Headers = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
_encode = msgspec.json.Encoder().encode


def header(scope: dict[str, Any], name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value  # type: ignore[no-any-return]
    return None


def request_id(scope: dict[str, Any], new_id: Callable[[], str]) -> str:
    """The client's ``x-request-id`` if it sent a sane one, else a new id."""
    return incoming_request_id(scope) or new_id()


def request_id_header(request_id: str) -> tuple[bytes, bytes]:
    return (REQUEST_ID_HEADER, request_id.encode())


def client_address(scope: dict[str, Any]) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


async def read_body(scope: dict[str, Any], receive: Any, limit: int) -> bytes:
    declared = header(scope, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"The request body is larger than {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise asyncio.CancelledError
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise PayloadTooLargeError(f"The request body is larger than {limit} bytes.")
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def extra_headers(values: dict[str, str]) -> Headers:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in values.items()]


async def send_json(send: Any, status: int, body: bytes, headers: Headers) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def error_payload(exc: InferiaError) -> tuple[int, bytes, Headers]:
    headers = list(JSON_HEADERS)
    # RateLimitedError and UpstreamError (an upstream's 429) may say when to retry.
    retry_after = getattr(exc, "retry_after_s", None)
    if retry_after is not None:
        headers.append((b"retry-after", str(max(1, math.ceil(retry_after))).encode()))
    if isinstance(exc, RateLimitedError):
        headers += extra_headers(exc.headers)  # x-ratelimit-* (admission)
    body = _encode(error_body(exc.status_code, exc.message, code=exc.code, param=exc.param))
    return exc.status_code, body, headers


def overhead_header(seconds: float) -> tuple[bytes, bytes]:
    return (b"x-inferia-overhead-ms", f"{seconds * 1000:.3f}".encode())


class DisconnectWatch:
    """Cancels the request's task when the client goes away (``http.disconnect``),
    which is what stops the upstream request at once.

    Watching costs a task and a pending ``receive()``, a large share of a short
    request's CPU, so it starts only once the request is ``grace_s`` old: a client
    that leaves is still noticed within ``grace_s`` plus the server's own delay.
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
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self.disconnected = True
                self._target.cancel()
                return

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._task is not None:
            self._task.cancel()
            self._task = None


class IdleGuard:
    """Cancels the request's task when a stream stays silent for ``timeout_s``.

    One timer per stream that re-arms itself at most once per ``timeout_s``; the relay
    only stamps ``last`` per event (cheaper than re-arming a timer per event).
    """

    __slots__ = ("_handle", "_loop", "_target", "_timeout", "fired", "last")

    def __init__(self, timeout_s: float) -> None:
        self._loop = asyncio.get_running_loop()
        current = asyncio.current_task()
        assert current is not None
        self._target = current
        self._timeout = timeout_s
        self.fired = False
        self.last = self._loop.time()
        self._handle: asyncio.TimerHandle | None = self._loop.call_later(timeout_s, self._check)

    def _check(self) -> None:
        idle = self._loop.time() - self.last
        if idle >= self._timeout:
            self._handle = None
            self.fired = True
            self._target.cancel()
        else:
            self._handle = self._loop.call_later(self._timeout - idle, self._check)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
