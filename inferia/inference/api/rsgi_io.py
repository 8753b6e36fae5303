"""RSGI helpers of the /v1 hot path: headers, body, responses, disconnects.

The POST endpoints are served on granian's RSGI interface, outside Litestar (see
inferia.core.rsgi): a request is a scope with a header map and a protocol object that
reads the body and writes the response, with no ASGI message dicts per read and per
write. Everything the endpoints need of it is here.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

import msgspec
from granian.rsgi import ProtocolClosed as ProtocolClosed  # type: ignore[attr-defined]

from inferia.core.asgi_bridge import split_address
from inferia.core.client_address import ClientAddresses, forwarded_for
from inferia.core.errors import InferiaError, PayloadTooLargeError, RateLimitedError
from inferia.core.http_errors import error_body
from inferia.core.request_id import valid_request_id

Headers = list[tuple[str, str]]
JSON_HEADERS: Headers = [("content-type", "application/json")]
SSE_HEADERS: Headers = [
    ("content-type", "text/event-stream; charset=utf-8"),
    ("cache-control", "no-cache"),
    ("x-accel-buffering", "no"),
]
REQUEST_ID_HEADER = "x-request-id"
_encode = msgspec.json.Encoder().encode


class ClientGone(Exception):
    """The client closed the connection: nothing more can be read from or sent to it."""


def request_id(scope: Any, new_id: Callable[[], str]) -> str:
    """The client's ``x-request-id`` if it sent a sane one, else a new id."""
    return valid_request_id(scope.headers.get(REQUEST_ID_HEADER)) or new_id()


def client_address(scope: Any, addresses: ClientAddresses) -> str | None:
    """The client's IP address (the peer's, or a trusted proxy's client's)."""
    address = split_address(scope.client)
    peer = address[0] if address else None
    if not addresses.trusts_proxies:
        return peer
    return addresses.resolve(peer, forwarded_for(scope.headers))


async def read_body(scope: Any, protocol: Any, limit: int) -> bytes:
    declared = scope.headers.get("content-length")
    try:
        if declared is not None and declared.isdigit():
            if int(declared) > limit:
                raise _too_large(limit)
            # The server reads no more than the declared length: one call, one buffer.
            body: bytes = await protocol()
            return body
        chunks: list[bytes] = []  # chunked: count as it arrives, stop at the limit
        size = 0
        async for chunk in protocol:
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
        return b"".join(chunks)
    except ProtocolClosed as exc:  # the client left mid-body
        raise ClientGone from exc


def _too_large(limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(f"The request body is larger than {limit} bytes.")


def extra_headers(values: dict[str, str]) -> Headers:
    return list(values.items())


def error_payload(exc: InferiaError) -> tuple[int, bytes, Headers]:
    headers = list(JSON_HEADERS)
    # RateLimitedError and UpstreamError (an upstream's 429) may say when to retry.
    retry_after = getattr(exc, "retry_after_s", None)
    if retry_after is not None:
        headers.append(("retry-after", str(max(1, math.ceil(retry_after)))))
    if isinstance(exc, RateLimitedError):
        headers += extra_headers(exc.headers)  # x-ratelimit-* (admission)
    body = _encode(error_body(exc.status_code, exc.message, code=exc.code, param=exc.param))
    return exc.status_code, body, headers


def overhead_header(seconds: float) -> tuple[str, str]:
    return ("x-inferia-overhead-ms", f"{seconds * 1000:.3f}")


class DisconnectWatch:
    """Cancels the request's task when the client goes away, which is what stops the
    upstream request at once.

    Watching costs a task awaiting the protocol's disconnect signal, a noticeable share
    of a short request's CPU, so it starts only once the request is ``grace_s`` old: a
    client that leaves is still noticed within ``grace_s`` plus the server's own delay.
    """

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
