"""``/internal/*``: what the filtration plane serves to other planes in split mode.

Authenticated with the internal service credential (constant-time compare). The
credential is never accepted from, nor sent to, anything but Inferia's own planes.
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Controller, Response, post
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.params import JSONBody

from inferia.contracts.principals import (
    INTERNAL_TOKEN_HEADER,
    RESOLVE_PATH,
    Principal,
    PrincipalResolver,
    ResolveRequest,
)
from inferia.core.errors import AuthenticationError


def internal_token_guard(expected: str) -> Any:
    expected_bytes = expected.encode()

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        presented = connection.headers.get(INTERNAL_TOKEN_HEADER, "").encode()
        if not expected_bytes or not hmac.compare_digest(presented, expected_bytes):
            raise AuthenticationError("internal endpoint: missing or invalid service credential")

    return guard


def internal_controller(principals: PrincipalResolver, internal_token: str) -> type[Controller]:
    class InternalController(Controller):
        path = "/internal"
        guards = [internal_token_guard(internal_token)]
        include_in_schema = False

        @post(RESOLVE_PATH.removeprefix("/internal"), status_code=200)
        async def resolve_principal(
            self, data: JSONBody[ResolveRequest]
        ) -> Response[Principal | dict[str, str]]:
            principal = await principals.resolve(data.credential)
            if principal is None:
                return Response({"error": "unknown credential"}, status_code=404)
            return Response(principal)

    return InternalController
