"""Prompt templates of an organisation: reads, previews, and changes that are audited
and announced.

Every change goes through ``Changes.apply``: the audit record commits with it, and
``TEMPLATE_CHANGES_CHANNEL`` carries the organisation id after the commit so each
inference process drops its snapshot at once.
"""

from __future__ import annotations

from inferia.config import TemplateSettings
from inferia.contracts.templates import TEMPLATE_CHANGES_CHANNEL
from inferia.core.errors import ValidationError
from inferia.filtration.audit import AuditContext
from inferia.filtration.changes import Changes
from inferia.filtration.templates.schemas import (
    RenderedMessage,
    RenderRequest,
    RenderResult,
    TemplateCreate,
    TemplateRecord,
    VersionCreate,
)
from inferia.filtration.templates.store import TemplateStore
from inferia.prompts import compile_template


class TemplateService:
    def __init__(self, store: TemplateStore, changes: Changes, limits: TemplateSettings) -> None:
        self._store = store
        self._changes = changes
        self._limits = limits

    async def list_for(self, organization_id: str) -> list[TemplateRecord]:
        return await self._store.list_for(organization_id)

    async def get(self, organization_id: str, template_id: str) -> TemplateRecord:
        return await self._store.get(organization_id, template_id)

    async def create(
        self, context: AuditContext, organization_id: str, data: TemplateCreate
    ) -> TemplateRecord:
        async with self._changes.apply(context) as change:
            record = await self._store.create(organization_id, data.name, data)
            change.audit("template.create", target=record.id, details=_details(record))
            change.announce(TEMPLATE_CHANGES_CHANNEL, organization_id)
        return _summary(record)

    async def add_version(
        self, context: AuditContext, organization_id: str, template_id: str, data: VersionCreate
    ) -> TemplateRecord:
        async with self._changes.apply(context) as change:
            current = await self._store.get(organization_id, template_id)
            if data.name is not None and data.name != current.name:
                raise ValidationError("a version cannot rename its template", param="name")
            record = await self._store.add_version(organization_id, template_id, data)
            change.audit("template.version.create", target=record.id, details=_details(record))
            change.announce(TEMPLATE_CHANGES_CHANNEL, organization_id)
        return _summary(record)

    async def activate(
        self, context: AuditContext, organization_id: str, template_id: str, version: int
    ) -> TemplateRecord:
        async with self._changes.apply(context) as change:
            record = await self._store.activate(organization_id, template_id, version)
            change.audit("template.activate", target=record.id, details=_details(record))
            change.announce(TEMPLATE_CHANGES_CHANNEL, organization_id)
        return _summary(record)

    async def delete(self, context: AuditContext, organization_id: str, template_id: str) -> None:
        async with self._changes.apply(context) as change:
            record = await self._store.delete(organization_id, template_id)
            change.audit("template.delete", target=record.id, details=_details(record))
            change.announce(TEMPLATE_CHANGES_CHANNEL, organization_id)

    async def render(
        self, organization_id: str, template_id: str, data: RenderRequest
    ) -> RenderResult:
        """A preview: what a request with these variables would send first."""
        number, body = await self._store.body(organization_id, template_id, data.version)
        messages = compile_template(body, self._limits).render(data.variables)
        return RenderResult(
            version=number, messages=[RenderedMessage(m["role"], m["content"]) for m in messages]
        )


def _summary(record: TemplateRecord) -> TemplateRecord:
    return TemplateRecord(
        id=record.id,
        organization_id=record.organization_id,
        name=record.name,
        version=record.version,
        active_version=record.active_version,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def _details(record: TemplateRecord) -> dict[str, object]:
    # Names and numbers only: a prompt's text may itself be confidential.
    return {
        "name": record.name,
        "version": record.version,
        "active_version": record.active_version,
    }
