"""Knowledge bases of an organisation: reads, audited changes, uploads and search.

Changes go through ``Changes.apply`` (the audit record commits with them). An upload
commits its document as ``queued`` and then puts a job on the ingestion stream; a
process that dies between the two queues it again when it starts
(``ingestion.start_knowledge``).
"""

from __future__ import annotations

from typing import Any

from inferia.config import KnowledgeSettings
from inferia.core.errors import InferiaError, PayloadTooLargeError, ValidationError
from inferia.filtration.audit import AuditContext
from inferia.filtration.changes import Changes
from inferia.filtration.knowledge_bases.ingestion import enqueue
from inferia.filtration.knowledge_bases.parsing import SUPPORTED, kind_of
from inferia.filtration.knowledge_bases.retrieval import KnowledgeRetriever
from inferia.filtration.knowledge_bases.schemas import (
    DocumentRecord,
    KnowledgeBaseCreate,
    KnowledgeBaseRecord,
    SearchHit,
    SearchRequest,
)
from inferia.filtration.knowledge_bases.store import KnowledgeStore, Upload
from inferia.state import StateBackend


class KnowledgeBasesUnavailable(InferiaError):
    """The database cannot hold vectors (PostgreSQL without pgvector)."""

    status_code = 503
    code = "knowledge_bases_unavailable"


class UnsupportedMediaType(InferiaError):
    status_code = 415
    code = "unsupported_media_type"


class KnowledgeBaseService:
    def __init__(
        self,
        store: KnowledgeStore,
        changes: Changes,
        state: StateBackend,
        retriever: KnowledgeRetriever,
        settings: KnowledgeSettings,
    ) -> None:
        self._store = store
        self._changes = changes
        self._state = state
        self._retriever = retriever
        self._settings = settings

    async def list_for(self, organization_id: str) -> list[KnowledgeBaseRecord]:
        return await self._store.list_for(organization_id)

    async def get(self, organization_id: str, base_id: str) -> KnowledgeBaseRecord:
        return await self._store.get(organization_id, base_id)

    async def create(
        self, context: AuditContext, organization_id: str, data: KnowledgeBaseCreate
    ) -> KnowledgeBaseRecord:
        reason = self._store.index.unavailable_reason
        if reason is not None:
            raise KnowledgeBasesUnavailable(reason)
        if data.chunk_overlap >= data.chunk_tokens:
            raise ValidationError(
                "chunk_overlap must be smaller than chunk_tokens", param="chunk_overlap"
            )
        async with self._changes.apply(context) as change:
            record = await self._store.create(organization_id, data)
            change.audit("knowledge_base.create", target=record.id, details=_details(record))
        return record

    async def delete(self, context: AuditContext, organization_id: str, base_id: str) -> None:
        async with self._changes.apply(context) as change:
            record = await self._store.delete(organization_id, base_id)
            change.audit("knowledge_base.delete", target=record.id, details=_details(record))

    async def documents(self, organization_id: str, base_id: str) -> list[DocumentRecord]:
        return await self._store.documents(organization_id, base_id)

    async def document(
        self, organization_id: str, base_id: str, document_id: str
    ) -> DocumentRecord:
        return await self._store.document(organization_id, base_id, document_id)

    async def upload(
        self,
        context: AuditContext,
        organization_id: str,
        base_id: str,
        *,
        filename: str,
        content_type: str,
        content: bytes,
        title: str | None,
    ) -> DocumentRecord:
        await self._store.get(organization_id, base_id)  # 404 before any checks of the file
        name = filename.strip().replace("\\", "/").rsplit("/", 1)[-1][:300]
        if not name:
            raise ValidationError("the file has no name", param="file")
        if len(content) > self._settings.max_upload_bytes:
            raise PayloadTooLargeError(
                f"the file is larger than {self._settings.max_upload_bytes} bytes", param="file"
            )
        if kind_of(name, content_type) is None:
            raise UnsupportedMediaType(
                f"unsupported file type; supported: {SUPPORTED}", param="file"
            )
        if not content.strip():
            raise ValidationError("the file is empty", param="file")
        upload = Upload(
            name=name,
            title=(title or "").strip()[:300] or name,
            content_type=content_type[:100],
            content=content,
        )
        async with self._changes.apply(context) as change:
            record = await self._store.add_document(organization_id, base_id, upload)
            change.audit(
                "knowledge_base.document.upload",
                target=record.id,
                details={"knowledge_base": base_id, "name": record.name, "size": record.size_bytes},
            )
        await enqueue(self._state, record.id)
        return record

    async def delete_document(
        self, context: AuditContext, organization_id: str, base_id: str, document_id: str
    ) -> None:
        async with self._changes.apply(context) as change:
            record = await self._store.delete_document(organization_id, base_id, document_id)
            change.audit(
                "knowledge_base.document.delete",
                target=record.id,
                details={"knowledge_base": base_id, "name": record.name},
            )

    async def search(
        self, organization_id: str, base_id: str, data: SearchRequest
    ) -> list[SearchHit]:
        base = await self._store.get(organization_id, base_id)
        top_k = data.top_k or self._settings.default_top_k
        hits = await self._retriever.search(organization_id, [base], data.query, top_k)
        titles = await self._retriever.titles([hit.document_id for hit in hits])
        return [
            SearchHit(
                document_id=hit.document_id,
                title=titles.get(hit.document_id, ""),
                position=hit.position,
                score=round(hit.score, 4),
                text=hit.text,
            )
            for hit in hits
        ]


def _details(record: KnowledgeBaseRecord) -> dict[str, Any]:
    return {
        "name": record.name,
        "embedding_model": record.embedding_model,
        "chunk_tokens": record.chunk_tokens,
        "chunk_overlap": record.chunk_overlap,
    }
