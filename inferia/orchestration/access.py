"""Who calls the control plane's REST routes, and may they.

The same user access tokens and permissions as ``/management``, and API keys acting with
their owner's role: the caller is verified through the ``CallerVerifier`` port
(``inferia.contracts.access``), implemented by the filtration plane
(``inferia.filtration.control_callers``) in one process and over
``/internal/callers/verify`` in split mode.
Every route names a permission with ``access.requires(...)``; the handler reads the
caller with ``access.caller(request)``. Everything is scoped to the caller's
organisation.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from inferia.contracts.access import CallerVerifier, VerifiedCaller
from inferia.core.errors import AuthenticationError, PermissionDeniedError

PERMISSIONS = frozenset({"pools:read", "pools:write", "deployments:read", "deployments:write"})
_STATE_KEY = "orchestration_caller"
Guard = Any


class Access:
    def __init__(self, verifier: CallerVerifier) -> None:
        self._verifier = verifier

    def requires(self, permission: str) -> Guard:
        if permission not in PERMISSIONS:
            raise ValueError(f"unknown permission {permission!r}")
        verifier = self._verifier

        async def guard(
            connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
        ) -> None:
            caller = await verifier.authenticate(connection.headers.get("authorization"))
            if permission not in caller.permissions:
                raise PermissionDeniedError(
                    f"your role '{caller.role}' lacks the permission '{permission}'"
                )
            connection.state[_STATE_KEY] = caller

        return guard

    @staticmethod
    def caller(request: Request[Any, Any, Any]) -> VerifiedCaller:
        caller: VerifiedCaller | None = request.state.get(_STATE_KEY)
        if caller is None:  # a route without a guard: a programming error, not a 500 leak
            raise AuthenticationError("this route needs an access token")
        return caller
