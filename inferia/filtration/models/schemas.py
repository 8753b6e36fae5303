"""Request and response bodies of ``/management/models``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from inferia.contracts.models import StrategyName

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^\S+$")]
Url = Annotated[str, msgspec.Meta(min_length=8, max_length=2000, pattern=r"^https?://")]
TemplateName = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
Seconds = Annotated[float, msgspec.Meta(gt=0, le=86400)]
KnowledgeBaseName = Annotated[
    str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._-]+$")
]
KnowledgeBaseNames = Annotated[list[KnowledgeBaseName], msgspec.Meta(max_length=16)]


class EndpointInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    base_url: Url
    # Write-only: never returned. Omitted on update = keep the stored key of that base_url.
    api_key: str | None = None
    upstream_model: str = ""
    weight: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 1
    connect_timeout_s: Seconds | None = None
    request_timeout_s: Seconds | None = None
    headers: dict[str, str] = msgspec.field(default_factory=dict)


class ModelCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    routing_strategy: StrategyName | None = None
    endpoints: Annotated[list[EndpointInput], msgspec.Meta(min_length=1, max_length=64)]
    # The name of the organisation's prompt template requests get by default.
    template: TemplateName | None = None
    # The organisation's knowledge bases searched for requests that name none.
    knowledge_bases: KnowledgeBaseNames = msgspec.field(default_factory=list)


class ModelUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    routing_strategy: StrategyName | msgspec.UnsetType | None = msgspec.UNSET
    endpoints: (
        Annotated[list[EndpointInput], msgspec.Meta(min_length=1, max_length=64)]
        | msgspec.UnsetType
    ) = msgspec.UNSET
    template: TemplateName | msgspec.UnsetType | None = msgspec.UNSET
    knowledge_bases: KnowledgeBaseNames | msgspec.UnsetType = msgspec.UNSET


class EndpointRecord(msgspec.Struct, frozen=True, kw_only=True):
    base_url: str
    has_api_key: bool
    upstream_model: str
    weight: int
    connect_timeout_s: float | None
    request_timeout_s: float | None
    headers: dict[str, str]


class ModelRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    organization_id: str
    name: str
    routing_strategy: StrategyName | None
    endpoints: list[EndpointRecord]
    template: str | None
    knowledge_bases: list[str]
    created_at: datetime
    updated_at: datetime
