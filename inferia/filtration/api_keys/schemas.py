"""Request and response bodies of ``/management/api-keys``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from inferia.filtration.schemas import Body

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
ModelName = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
Models = Annotated[list[ModelName], msgspec.Meta(max_length=256)]
Identifier = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class ApiKeyCreate(Body, frozen=True):
    name: Name
    # Models the key may call; empty = every model of the organisation.
    allowed_models: Models = msgspec.field(default_factory=list)
    expires_at: datetime | None = None
    # The member the key acts for (default: the creator); someone else takes members:write.
    user_id: Identifier | None = None


class ApiKeyUpdate(Body, frozen=True):
    name: Name | UnsetType = UNSET
    allowed_models: Models | UnsetType = UNSET
    expires_at: datetime | UnsetType | None = UNSET


class ApiKeyRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What may be shown about a key: everything but the secret."""

    id: str
    organization_id: str
    user_id: str | None
    name: str
    prefix: str
    allowed_models: list[str]
    expires_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime


class CreatedApiKey(msgspec.Struct, frozen=True, kw_only=True):
    """What ``ApiKeyService.create`` returns."""

    record: ApiKeyRecord
    key: str  # the plaintext, returned exactly once


class CreatedKey(msgspec.Struct, frozen=True, kw_only=True):
    """The reply of ``POST /management/api-keys``."""

    key: str  # shown exactly once
    api_key: ApiKeyRecord
