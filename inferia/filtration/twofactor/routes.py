"""``/auth/totp/*``: set up, verify (enable) and disable the caller's second factor."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from inferia.filtration.access import Caller, audit_context
from inferia.filtration.twofactor.schemas import (
    TotpCodeRequest,
    TotpDisableRequest,
    TotpEnabledResponse,
    TotpSetupResponse,
)
from inferia.filtration.twofactor.service import TwoFactor


def two_factor_controller(two_factor: TwoFactor) -> type[Controller]:
    class TwoFactorController(Controller):
        path = "/auth/totp"
        tags = ["auth"]

        @post("/setup", status_code=200)
        async def totp_setup(
            self, request: Request[Any, Any, Any], caller: NamedDependency[Caller]
        ) -> TotpSetupResponse:
            return await two_factor.setup(caller, audit_context(request, caller))

        @post("/verify", status_code=200)
        async def totp_verify(
            self,
            request: Request[Any, Any, Any],
            caller: NamedDependency[Caller],
            data: JSONBody[TotpCodeRequest],
        ) -> TotpEnabledResponse:
            return await two_factor.verify(caller, data.code, audit_context(request, caller))

        @post("/disable", status_code=204)
        async def totp_disable(
            self,
            request: Request[Any, Any, Any],
            caller: NamedDependency[Caller],
            data: JSONBody[TotpDisableRequest],
        ) -> None:
            await two_factor.disable(
                caller, data.password, data.code, audit_context(request, caller)
            )

    return TwoFactorController
