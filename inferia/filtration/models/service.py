"""Model definitions of an organisation: reads, and changes that are audited and announced.

Every change goes through ``Changes.apply``: the audit record commits with it, and
``MODEL_CHANGES_CHANNEL`` carries the model id after the commit so each process
rebuilds its routing table at once.
"""

from __future__ import annotations

from typing import Any

from inferia.contracts.models import MODEL_CHANGES_CHANNEL
from inferia.filtration.audit import AuditContext
from inferia.filtration.changes import Changes
from inferia.filtration.models.schemas import ModelCreate, ModelRecord, ModelUpdate
from inferia.filtration.models.store import ModelStore


class ModelService:
    def __init__(self, store: ModelStore, changes: Changes) -> None:
        self._store = store
        self._changes = changes

    async def list_for(self, organization_id: str) -> list[ModelRecord]:
        return await self._store.list_for(organization_id)

    async def get(self, organization_id: str, model_id: str) -> ModelRecord:
        return await self._store.get(organization_id, model_id)

    async def create(
        self, context: AuditContext, organization_id: str, data: ModelCreate
    ) -> ModelRecord:
        async with self._changes.apply(context) as change:
            record = await self._store.create(organization_id, data)
            change.audit("model.create", target=record.id, details=_details(record))
            change.announce(MODEL_CHANGES_CHANNEL, record.id)
        return record

    async def update(
        self, context: AuditContext, organization_id: str, model_id: str, data: ModelUpdate
    ) -> ModelRecord:
        async with self._changes.apply(context) as change:
            record = await self._store.update(organization_id, model_id, data)
            change.audit("model.update", target=record.id, details=_details(record))
            change.announce(MODEL_CHANGES_CHANNEL, record.id)
        return record

    async def delete(self, context: AuditContext, organization_id: str, model_id: str) -> None:
        async with self._changes.apply(context) as change:
            record = await self._store.delete(organization_id, model_id)
            change.audit("model.delete", target=record.id, details=_details(record))
            change.announce(MODEL_CHANGES_CHANNEL, record.id)


def _details(record: ModelRecord) -> dict[str, Any]:
    # Never the API keys: only where the traffic goes.
    return {
        "name": record.name,
        "routing_strategy": record.routing_strategy,
        "template": record.template,
        "knowledge_bases": record.knowledge_bases,
        "endpoints": [e.base_url for e in record.endpoints],
    }
