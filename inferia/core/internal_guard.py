"""The internal service credential on a plane's ``/internal/*`` routes (split mode):
a Litestar guard comparing the presented header in constant time."""

from __future__ import annotations

import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from inferia.core.errors import AuthenticationError


def internal_token_guard(expected: str, header: str) -> Any:
    expected_bytes = expected.encode()

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        presented = connection.headers.get(header, "").encode()
        if not expected_bytes or not hmac.compare_digest(presented, expected_bytes):
            raise AuthenticationError("internal endpoint: missing or invalid service credential")

    return guard
