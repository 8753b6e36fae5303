"""Request and response bodies of ``/auth/*``.

Request bodies refuse unknown fields and bound every string, so a malformed or
oversized body is a 4xx before any work is done.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

Email = Annotated[str, msgspec.Meta(min_length=1, max_length=320)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Token = Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
OrgRef = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class _Body(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class LoginRequest(_Body, frozen=True):
    email: Email
    password: Password
    # Required once the account has TOTP enabled: a current code or a recovery code.
    totp: Code | None = None
    # Organisation id or slug to act in; default: the user's first organisation.
    organization: OrgRef | None = None


class RefreshRequest(_Body, frozen=True):
    refresh_token: Token


class LogoutRequest(_Body, frozen=True):
    # Alternative to the Authorization header, e.g. once the access token has expired.
    refresh_token: Token | None = None


class SwitchOrgRequest(_Body, frozen=True):
    organization: OrgRef


class TotpCodeRequest(_Body, frozen=True):
    code: Code


class TotpDisableRequest(_Body, frozen=True):
    password: Password
    code: Code


class AcceptInviteRequest(_Body, frozen=True):
    token: Token
    # A new account's password, or the existing account's current one.
    password: Password


class TokenResponse(msgspec.Struct, frozen=True, kw_only=True):
    access_token: str
    refresh_token: str
    expires_in: int
    organization_id: str
    token_type: str = "bearer"


class TotpSetupResponse(msgspec.Struct, frozen=True, kw_only=True):
    secret: str
    otpauth_uri: str


class TotpEnabledResponse(msgspec.Struct, frozen=True, kw_only=True):
    enabled: bool
    # Shown once; each works once in place of a TOTP code.
    recovery_codes: list[str]


class OrganizationMembership(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    slug: str
    name: str
    role: str
    active: bool


class MeResponse(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    email: str
    organization_id: str
    role: str
    permissions: list[str]
    totp_enabled: bool
    is_superuser: bool
    organizations: list[OrganizationMembership]


class AcceptedInvitation(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    email: str
    organization_id: str
    role: str
    created_account: bool
