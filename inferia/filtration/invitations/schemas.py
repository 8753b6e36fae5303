"""Request and response bodies of ``/management/members/invitations`` and
``/auth/accept-invite``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from inferia.filtration.schemas import Body

Email = Annotated[str, msgspec.Meta(min_length=1, max_length=320)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
RoleRef = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Token = Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class InvitationCreate(Body, frozen=True):
    email: Email
    role: RoleRef = "member"
    ttl_s: int | None = None


class AcceptInviteRequest(Body, frozen=True):
    token: Token
    # A new account's password, or the existing account's current one.
    password: Password
    # The existing account's TOTP code (or a recovery code) when it has 2FA.
    totp: Code | None = None


class InvitationRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    organization_id: str
    email: str
    role: str
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime


class CreatedInvitation(msgspec.Struct, frozen=True, kw_only=True):
    invitation: InvitationRecord
    token: str  # shown once


class AcceptedInvitation(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    email: str
    organization_id: str
    role: str
    created_account: bool
