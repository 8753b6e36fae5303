"""CORS for the OpenAI API (``/v1/*``) only, for the origins ``server.cors_origins`` lists.

Browsers call ``/v1`` with an ``Authorization: Bearer sk-...`` header, which needs a
preflight. Only ``/v1/*`` gets one: ``/auth/*`` and the management API stay same-origin
(the refresh cookie's CSRF defence relies on no preflight ever being granted there, see
filtration/identity/cookies.py). Off (None) by default: no cost per request then.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

_PREFIX = "/v1/"
_METHODS = b"GET, POST, OPTIONS"
_DEFAULT_HEADERS = b"authorization, content-type, x-request-id"
# What a browser script may read of a reply besides the CORS-safelisted headers.
_EXPOSED = b"x-request-id, x-inferia-overhead-ms, retry-after"

Send = Callable[[dict[str, Any]], Awaitable[None]]


class Cors:
    __slots__ = ("_any", "_origins")

    def __init__(self, origins: Iterable[str]) -> None:
        listed = {o.rstrip("/").lower() for o in origins}
        self._any = "*" in listed
        self._origins = frozenset(o.encode() for o in listed - {"*"})

    @classmethod
    def from_settings(cls, origins: list[str]) -> Cors | None:
        return cls(origins) if origins else None

    def applies(self, path: str) -> bool:
        return path.startswith(_PREFIX)

    def _allowed(self, origin: bytes | None) -> bytes | None:
        """The Access-Control-Allow-Origin value for ``origin``, None if not allowed."""
        if origin is None:
            return None
        if origin.rstrip(b"/").lower() in self._origins:
            return origin
        return b"*" if self._any else None

    async def preflight(self, scope: dict[str, Any], send: Send) -> bool:
        """Answer a preflight (True), or leave the request alone (False)."""
        if scope["method"] != "OPTIONS":
            return False
        headers = dict(scope["headers"])
        if b"access-control-request-method" not in headers:
            return False
        allowed = self._allowed(headers.get(b"origin"))
        response: list[tuple[bytes, bytes]] = [(b"vary", b"origin"), (b"content-length", b"0")]
        if allowed is not None:
            response += [
                (b"access-control-allow-origin", allowed),
                (b"access-control-allow-methods", _METHODS),
                (
                    b"access-control-allow-headers",
                    headers.get(b"access-control-request-headers") or _DEFAULT_HEADERS,
                ),
                (b"access-control-max-age", b"600"),
            ]
        # A refused origin gets 403 without the headers: the browser stops there.
        status = 204 if allowed is not None else 403
        await send({"type": "http.response.start", "status": status, "headers": response})
        await send({"type": "http.response.body", "body": b""})
        return True

    def wrap(self, scope: dict[str, Any], send: Send) -> Send:
        """``send`` that adds the CORS headers to the reply of an allowed origin."""
        allowed = self._allowed(dict(scope["headers"]).get(b"origin"))
        if allowed is None:
            return send
        extra = [
            (b"access-control-allow-origin", allowed),
            (b"access-control-expose-headers", _EXPOSED),
            (b"vary", b"origin"),
        ]

        async def send_with_cors(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        return send_with_cors
