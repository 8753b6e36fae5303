"""Request and response bodies of ``/admin/users``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from inferia.filtration.schemas import Body

Email = Annotated[str, msgspec.Meta(min_length=1, max_length=320)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
RoleRef = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class UserCreate(Body, frozen=True):
    email: Email
    password: Password
    role: RoleRef = "member"


class UserUpdate(Body, frozen=True):
    role: RoleRef | UnsetType = UNSET
    # The membership in this organisation.
    active: bool | UnsetType = UNSET
    # The account itself, in every organisation (platform operators only).
    account_active: bool | UnsetType = UNSET


class MemberRecord(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    email: str
    role: str
    role_id: str
    active: bool
    account_active: bool
    totp_enabled: bool
    # False for an account created through an invitation until an operator verifies it.
    email_verified: bool
    joined_at: datetime
