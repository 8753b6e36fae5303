"""Request ids: honour an incoming ``x-request-id`` (if sane), else make one; echo it back.

``RequestIds`` is the process' one source (``Runtime.request_ids``): Litestar's routes
get theirs from ``RequestIdMiddleware``, the /v1 endpoints served beside Litestar
(``inferia.inference.api.exchange``) from the same object.
"""

from __future__ import annotations

import re
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from inferia.core.ids import IdSource
from inferia.core.logging import current_request_id

HEADER = b"x-request-id"
# Incoming ids are echoed into headers and logs: accept only short, printable tokens.
_VALID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def valid_request_id(value: str | None) -> str | None:
    """``value`` if it is a sane request id to echo, else None."""
    return value if value is not None and _VALID.fullmatch(value) else None


class RequestIds:
    """The client's id when it sent a sane one, else a new one (a per-process counter,
    ``inferia.core.ids``: no syscall per request)."""

    __slots__ = ("_ids",)

    def __init__(self) -> None:
        self._ids = IdSource()

    def choose(self, incoming: str | None) -> str:
        """The id of a request whose ``x-request-id`` header is ``incoming``."""
        return valid_request_id(incoming) or self._ids.short()

    def of(self, scope: Scope | dict[str, Any]) -> str:
        """The id of the request of an ASGI ``scope``."""
        for name, value in scope.get("headers", ()):
            if name == HEADER:
                return self.choose(value.decode("latin-1"))
        return self._ids.short()


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp, ids: RequestIds) -> None:
        self.app = app
        self._ids = ids

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        request_id = self._ids.of(scope)
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        token = current_request_id.set(request_id)
        encoded = request_id.encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                headers.append((HEADER, encoded))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            current_request_id.reset(token)
