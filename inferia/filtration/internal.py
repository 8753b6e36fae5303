"""``/internal/*``: what the filtration plane serves to other planes in split mode.

Authenticated with the internal service credential (constant-time compare). The
credential is never accepted from, nor sent to, anything but Inferia's own planes.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, post
from litestar.params import JSONBody

from inferia.contracts.access import (
    VERIFY_PATH,
    CallerRecord,
    CallerVerifier,
    VerifyRefusal,
    VerifyRequest,
)
from inferia.contracts.principals import (
    INTERNAL_TOKEN_HEADER,
    RESOLVE_PATH,
    Principal,
    PrincipalResolver,
    ResolveRequest,
)
from inferia.core import internal_guard
from inferia.core.errors import InferiaError


def internal_token_guard(expected: str) -> Any:
    return internal_guard.internal_token_guard(expected, INTERNAL_TOKEN_HEADER)


def internal_controller(
    principals: PrincipalResolver, internal_token: str, access: CallerVerifier
) -> type[Controller]:
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

        @post(VERIFY_PATH.removeprefix("/internal"), status_code=200)
        async def verify_caller(
            self, data: JSONBody[VerifyRequest]
        ) -> CallerRecord | VerifyRefusal:
            """The caller-verification port for planes in other processes (split mode)."""
            try:
                caller = await access.authenticate(data.authorization)
            except InferiaError as exc:  # 401/403: the other plane answers the same
                return VerifyRefusal(status=exc.status_code, message=exc.message)
            return CallerRecord(
                user_id=caller.user_id,
                organization_id=caller.organization_id,
                role=caller.role,
                permissions=frozenset(caller.permissions),
            )

    return InternalController
