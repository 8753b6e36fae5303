"""``/auth/*``: login, token refresh and logout, switching organisation, the current
user, changing one's password.

Login and refresh are public and carry their own throttling; the rest need an access
token (the ``caller`` dependency authenticates it). ``/auth/totp/*`` is served by
``twofactor/routes.py``, ``/auth/accept-invite`` by ``invitations/routes.py``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from inferia.core.errors import AuthenticationError
from inferia.filtration.access import ACCESS_STATE_KEY, AccessControl, Caller, audit_context
from inferia.filtration.identity.cookies import (
    cleared_refresh_cookie,
    refresh_cookie,
    refresh_token_from_cookie,
)
from inferia.filtration.identity.password_change import PasswordChanges
from inferia.filtration.identity.schemas import (
    LoginRequest,
    LogoutRequest,
    MeResponse,
    PasswordChangeRequest,
    RefreshRequest,
    SwitchOrgRequest,
    TokenResponse,
)
from inferia.filtration.identity.service import AuthService


def auth_controller(auth: AuthService, passwords: PasswordChanges) -> type[Controller]:
    def answer(tokens: TokenResponse, *, cookie: bool) -> Response[TokenResponse]:
        """The token pair, or (cookie mode) the access token with the refresh token
        moved into the HttpOnly cookie."""
        if not cookie or tokens.refresh_token is None:
            return Response(tokens)
        cookie_value = refresh_cookie(tokens.refresh_token, auth.refresh_ttl_s)
        return Response(msgspec.structs.replace(tokens, refresh_token=None), cookies=[cookie_value])

    class AuthController(Controller):
        path = "/auth"
        tags = ["auth"]

        @post("/login", status_code=200)
        async def login(
            self, request: Request[Any, Any, Any], data: JSONBody[LoginRequest]
        ) -> Response[TokenResponse]:
            tokens = await auth.login(data, audit_context(request))
            return answer(tokens, cookie=data.refresh_cookie)

        @post("/refresh", status_code=200)
        async def refresh(
            self, request: Request[Any, Any, Any], data: JSONBody[RefreshRequest | None] = None
        ) -> Response[TokenResponse]:
            token = data.refresh_token if data is not None else None
            from_cookie = token is None
            if token is None:
                token = refresh_token_from_cookie(request)
            if token is None:
                raise AuthenticationError("send the refresh token (or its cookie) to refresh")
            return answer(await auth.refresh(token, audit_context(request)), cookie=from_cookie)

        @post("/logout", status_code=204)
        async def logout(
            self, request: Request[Any, Any, Any], data: JSONBody[LogoutRequest | None] = None
        ) -> Response[None]:
            caller = None
            if request.headers.get("authorization"):
                access: AccessControl = request.app.state[ACCESS_STATE_KEY]
                caller = await access.authenticate(request.headers.get("authorization"))
            refresh_token = data.refresh_token if data is not None else None
            await auth.logout(caller, refresh_token, audit_context(request, caller))
            # The session is over: a browser drops its refresh cookie too.
            return Response(None, status_code=204, cookies=[cleared_refresh_cookie()])

        @get("/me")
        async def me(self, caller: NamedDependency[Caller]) -> MeResponse:
            return await auth.me(caller)

        @post("/password", status_code=204)
        async def change_password(
            self,
            request: Request[Any, Any, Any],
            caller: NamedDependency[Caller],
            data: JSONBody[PasswordChangeRequest],
        ) -> None:
            await passwords.change(
                caller, data.current_password, data.new_password, audit_context(request, caller)
            )

        @post("/switch-org", status_code=200)
        async def switch_org(
            self,
            request: Request[Any, Any, Any],
            caller: NamedDependency[Caller],
            data: JSONBody[SwitchOrgRequest],
        ) -> Response[TokenResponse]:
            tokens = await auth.switch_organization(
                caller, data.organization, audit_context(request, caller)
            )
            return answer(tokens, cookie=data.refresh_cookie)

    return AuthController
