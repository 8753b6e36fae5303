"""Request and response bodies of ``/auth/totp/*``."""

from __future__ import annotations

from typing import Annotated

import msgspec

from inferia.filtration.schemas import Body

Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class TotpCodeRequest(Body, frozen=True):
    code: Code


class TotpDisableRequest(Body, frozen=True):
    password: Password
    code: Code


class TotpSetupResponse(msgspec.Struct, frozen=True, kw_only=True):
    secret: str
    otpauth_uri: str


class TotpEnabledResponse(msgspec.Struct, frozen=True, kw_only=True):
    enabled: bool
    # Shown once; each works once in place of a TOTP code.
    recovery_codes: list[str]
