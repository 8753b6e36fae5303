"""Request and response bodies of ``/management/templates``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from inferia.prompts import MessageTemplate, TemplateBody, VariableSpec

TemplateName = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
VersionNumber = Annotated[int, msgspec.Meta(ge=1)]


class TemplateCreate(TemplateBody, frozen=True, forbid_unknown_fields=True, kw_only=True):
    name: TemplateName


class VersionCreate(TemplateBody, frozen=True, forbid_unknown_fields=True, kw_only=True):
    # The create body is accepted as it is; a name, if sent, must be the template's.
    name: TemplateName | None = None


class ActivateRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    version: VersionNumber


class RenderRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    variables: dict[str, Any] = msgspec.field(default_factory=dict)
    version: VersionNumber | None = None


class VersionRecord(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    messages: list[MessageTemplate]
    variables: list[VariableSpec]
    created_at: datetime


class TemplateRecord(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    id: str
    organization_id: str
    name: str
    # The newest version (the one a create or add-version call just made).
    version: int
    active_version: int
    created_at: datetime
    updated_at: datetime
    # Every version, oldest first: in GET /management/templates/{id} only.
    versions: list[VersionRecord] | None = None


class RenderedMessage(msgspec.Struct, frozen=True):
    role: str
    content: str


class RenderResult(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    messages: list[RenderedMessage]
