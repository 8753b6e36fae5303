"""The internal service credential on this plane's ``/internal/*`` routes (split mode)."""

from __future__ import annotations

import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from inferia.contracts.principals import INTERNAL_TOKEN_HEADER
from inferia.core.errors import AuthenticationError


def internal_token_guard(expected: str) -> Any:
    expected_bytes = expected.encode()

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        presented = connection.headers.get(INTERNAL_TOKEN_HEADER, "").encode()
        if not expected_bytes or not hmac.compare_digest(presented, expected_bytes):
            raise AuthenticationError("internal endpoint: missing or invalid service credential")

    return guard
