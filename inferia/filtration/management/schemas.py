"""Request bodies of ``/management/*`` and ``/admin/*``.

Unknown fields are refused and every string is bounded; PATCH bodies use
``msgspec.UNSET`` so "not sent" differs from "set to null" (``expires_at: null``
removes an expiry).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

import msgspec
from msgspec import UNSET, UnsetType

T = TypeVar("T")

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
ModelName = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
Models = Annotated[list[ModelName], msgspec.Meta(max_length=256)]
Email = Annotated[str, msgspec.Meta(min_length=1, max_length=320)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
RoleRef = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
RoleName = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Permission = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Permissions = Annotated[list[Permission], msgspec.Meta(max_length=128)]
Identifier = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class _Body(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class ApiKeyCreate(_Body, frozen=True):
    name: Name
    # Models the key may call; empty = every model of the organisation.
    allowed_models: Models = msgspec.field(default_factory=list)
    expires_at: datetime | None = None
    # The member the key acts for; default: the caller.
    user_id: Identifier | None = None


class ApiKeyUpdate(_Body, frozen=True):
    name: Name | UnsetType = UNSET
    allowed_models: Models | UnsetType = UNSET
    expires_at: datetime | UnsetType | None = UNSET


class UserCreate(_Body, frozen=True):
    email: Email
    password: Password
    role: RoleRef = "member"


class UserUpdate(_Body, frozen=True):
    role: RoleRef | UnsetType = UNSET
    # The membership in this organisation.
    active: bool | UnsetType = UNSET
    # The account itself, in every organisation (platform operators only).
    account_active: bool | UnsetType = UNSET


class RoleCreate(_Body, frozen=True):
    name: RoleName
    permissions: Permissions


class RoleUpdate(_Body, frozen=True):
    name: RoleName | UnsetType = UNSET
    permissions: Permissions | UnsetType = UNSET


class InvitationCreate(_Body, frozen=True):
    email: Email
    role: RoleRef = "member"
    ttl_s: int | None = None


class Page(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    data: list[T]


def provided(**fields: object) -> dict[str, object]:
    """The fields of a PATCH body that were actually sent."""
    return {name: value for name, value in fields.items() if value is not UNSET}
