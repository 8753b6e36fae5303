"""Request and response bodies of ``/admin/roles`` and ``/admin/permissions``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from inferia.filtration.schemas import Body

RoleName = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Permission = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Permissions = Annotated[list[Permission], msgspec.Meta(max_length=128)]


class RoleCreate(Body, frozen=True):
    name: RoleName
    permissions: Permissions


class RoleUpdate(Body, frozen=True):
    name: RoleName | UnsetType = UNSET
    permissions: Permissions | UnsetType = UNSET


class RoleRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    permissions: list[str]
    builtin: bool
    organization_id: str | None
    created_at: datetime


class PermissionCatalogue(msgspec.Struct, frozen=True, kw_only=True):
    permissions: list[str]
