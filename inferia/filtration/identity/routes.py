"""``/auth/*``: login, token refresh and logout, switching organisation, the current user.

Login and refresh are public and carry their own throttling; the rest need an access
token (the ``caller`` dependency authenticates it). ``/auth/totp/*`` is served by
``twofactor/routes.py``, ``/auth/accept-invite`` by ``invitations/routes.py``.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from inferia.filtration.access import ACCESS_STATE_KEY, AccessControl, Caller, audit_context
from inferia.filtration.identity.schemas import (
    LoginRequest,
    LogoutRequest,
    MeResponse,
    RefreshRequest,
    SwitchOrgRequest,
    TokenResponse,
)
from inferia.filtration.identity.service import AuthService


def auth_controller(auth: AuthService) -> type[Controller]:
    class AuthController(Controller):
        path = "/auth"
        tags = ["auth"]

        @post("/login", status_code=200)
        async def login(
            self, request: Request[Any, Any, Any], data: JSONBody[LoginRequest]
        ) -> TokenResponse:
            return await auth.login(data, audit_context(request))

        @post("/refresh", status_code=200)
        async def refresh(
            self, request: Request[Any, Any, Any], data: JSONBody[RefreshRequest]
        ) -> TokenResponse:
            return await auth.refresh(data.refresh_token, audit_context(request))

        @post("/logout", status_code=204)
        async def logout(
            self, request: Request[Any, Any, Any], data: JSONBody[LogoutRequest | None] = None
        ) -> None:
            caller = None
            if request.headers.get("authorization"):
                access: AccessControl = request.app.state[ACCESS_STATE_KEY]
                caller = await access.authenticate(request.headers.get("authorization"))
            refresh_token = data.refresh_token if data is not None else None
            await auth.logout(caller, refresh_token, audit_context(request, caller))

        @get("/me")
        async def me(self, caller: NamedDependency[Caller]) -> MeResponse:
            return await auth.me(caller)

        @post("/switch-org", status_code=200)
        async def switch_org(
            self,
            request: Request[Any, Any, Any],
            caller: NamedDependency[Caller],
            data: JSONBody[SwitchOrgRequest],
        ) -> TokenResponse:
            return await auth.switch_organization(
                caller, data.organization, audit_context(request, caller)
            )

    return AuthController
