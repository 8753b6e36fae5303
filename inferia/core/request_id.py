"""Request ids: honour an incoming ``x-request-id`` (if sane), else make one; echo it back.

A plain ASGI middleware: it runs on every request, so it avoids Litestar's
request object and touches only the raw scope and the response-start message. The /v1
hot path (served outside Litestar) applies the same rule with ``valid_request_id``.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from inferia.core.logging import current_request_id

HEADER = b"x-request-id"
# Incoming ids are echoed into headers and logs: accept only short, printable tokens.
_VALID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def new_request_id() -> str:
    return secrets.token_hex(12)


def valid_request_id(value: str | None) -> str | None:
    """``value`` if it is a sane request id to echo, else None."""
    return value if value is not None and _VALID.fullmatch(value) else None


def incoming_request_id(scope: Scope | dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == HEADER:
            return valid_request_id(value.decode("latin-1"))
    return None


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        request_id = incoming_request_id(scope) or new_request_id()
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
