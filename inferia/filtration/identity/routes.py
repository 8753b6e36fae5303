"""``/auth/*``: login, token refresh and logout, the current user, 2FA, invitations.

Public routes (login, refresh, accept-invite) carry their own throttling; the rest
need an access token (the ``caller`` dependency authenticates it).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from inferia.filtration.access import ACCESS_STATE_KEY, AccessControl, Caller
from inferia.filtration.audit import AuditContext
from inferia.filtration.identity.auth import AuthService
from inferia.filtration.identity.invitations import InvitationService
from inferia.filtration.identity.schemas import (
    AcceptedInvitation,
    AcceptInviteRequest,
    LoginRequest,
    LogoutRequest,
    MeResponse,
    RefreshRequest,
    SwitchOrgRequest,
    TokenResponse,
    TotpCodeRequest,
    TotpDisableRequest,
    TotpEnabledResponse,
    TotpSetupResponse,
)
from inferia.filtration.identity.twofactor import TwoFactor


def _context(request: Request[Any, Any, Any], caller: Caller | None = None) -> AuditContext:
    if caller is None:
        return AuditContext.of(request)
    return AuditContext.of(request, actor_id=caller.user_id, organization_id=caller.organization_id)


def auth_controller(
    auth: AuthService, two_factor: TwoFactor, invitations: InvitationService
) -> type[Controller]:
    class AuthController(Controller):
        path = "/auth"
        tags = ["auth"]

        @post("/login", status_code=200)
        async def login(
            self, request: Request[Any, Any, Any], data: JSONBody[LoginRequest]
        ) -> TokenResponse:
            return await auth.login(data, _context(request))

        @post("/refresh", status_code=200)
        async def refresh(
            self, request: Request[Any, Any, Any], data: JSONBody[RefreshRequest]
        ) -> TokenResponse:
            return await auth.refresh(data.refresh_token, _context(request))

        @post("/logout", status_code=204)
        async def logout(
            self, request: Request[Any, Any, Any], data: JSONBody[LogoutRequest | None] = None
        ) -> None:
            caller = None
            if request.headers.get("authorization"):
                access: AccessControl = request.app.state[ACCESS_STATE_KEY]
                caller = await access.authenticate(request.headers.get("authorization"))
            refresh_token = data.refresh_token if data is not None else None
            await auth.logout(caller, refresh_token, _context(request, caller))

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
                caller, data.organization, _context(request, caller)
            )

        @post("/totp/setup", status_code=200)
        async def totp_setup(
            self, request: Request[Any, Any, Any], caller: NamedDependency[Caller]
        ) -> TotpSetupResponse:
            return await two_factor.setup(caller, _context(request, caller))

        @post("/totp/verify", status_code=200)
        async def totp_verify(
            self,
            request: Request[Any, Any, Any],
            caller: NamedDependency[Caller],
            data: JSONBody[TotpCodeRequest],
        ) -> TotpEnabledResponse:
            return await two_factor.verify(caller, data.code, _context(request, caller))

        @post("/totp/disable", status_code=204)
        async def totp_disable(
            self,
            request: Request[Any, Any, Any],
            caller: NamedDependency[Caller],
            data: JSONBody[TotpDisableRequest],
        ) -> None:
            await two_factor.disable(caller, data.password, data.code, _context(request, caller))

        @post("/accept-invite", status_code=200)
        async def accept_invite(
            self, request: Request[Any, Any, Any], data: JSONBody[AcceptInviteRequest]
        ) -> AcceptedInvitation:
            return await invitations.accept(data.token, data.password, _context(request))

    return AuthController
