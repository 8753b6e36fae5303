"""Request and response bodies of ``/auth/*`` (login, refresh, logout, switch-org, me).

The bodies of ``/auth/totp/*`` are in ``twofactor/schemas.py``, of
``/auth/accept-invite`` in ``invitations/schemas.py``.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from inferia.filtration.schemas import Body

Email = Annotated[str, msgspec.Meta(min_length=1, max_length=320)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Token = Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
OrgRef = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class LoginRequest(Body, frozen=True):
    email: Email
    password: Password
    # Required once the account has TOTP enabled: a current code or a recovery code.
    totp: Code | None = None
    # Organisation id or slug to act in; default: the user's first organisation.
    organization: OrgRef | None = None
    # Browsers: the refresh token goes into an HttpOnly cookie, not the body (cookies.py).
    refresh_cookie: bool = False


class RefreshRequest(Body, frozen=True):
    # Absent: the refresh cookie is used (cookies.py).
    refresh_token: Token | None = None


class LogoutRequest(Body, frozen=True):
    # Alternative to the Authorization header, e.g. once the access token has expired.
    refresh_token: Token | None = None


class SwitchOrgRequest(Body, frozen=True):
    organization: OrgRef
    refresh_cookie: bool = False


class PasswordChangeRequest(Body, frozen=True):
    current_password: Password
    new_password: Password


class TokenResponse(msgspec.Struct, frozen=True, kw_only=True):
    access_token: str
    # None when it was set as the refresh cookie instead.
    refresh_token: str | None
    expires_in: int
    organization_id: str
    token_type: str = "bearer"


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
