"""KnowledgeStore: organisation-scoped knowledge bases and documents, and their chunks.

Every read names the organisation, so another organisation's knowledge base is "not
found". Chunks are written and searched through the ``VectorIndex``; the store keeps
the rule that only ``ready`` documents count, and bumps a knowledge base's
``revision`` in the transaction that changes what can be found in it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

from inferia.core.errors import ConflictError, IntegrityViolation, NotFoundError
from inferia.db.errors import wrap_errors
from inferia.filtration.knowledge_bases.schemas import (
    DocumentRecord,
    KnowledgeBaseCreate,
    KnowledgeBaseRecord,
    Progress,
)
from inferia.filtration.knowledge_bases.tables import KnowledgeBase, KnowledgeDocument
from inferia.filtration.knowledge_bases.vector_index import VectorIndex
from inferia.filtration.models.tables import ModelDeployment

TERMINAL_STATES = frozenset({"ready", "failed"})
_DOCUMENT_COLUMNS = tuple(c for c in KnowledgeDocument._meta.columns if c._meta.name != "content")


class Upload(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    title: str
    content_type: str
    content: bytes


class IngestSource(msgspec.Struct, frozen=True, kw_only=True):
    """What ingestion needs of a document and its knowledge base."""

    document: DocumentRecord
    organization_id: str
    content: bytes
    base: KnowledgeBaseRecord


def _uuid(value: str, what: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise NotFoundError(f"{what} not found") from None


class KnowledgeStore:
    def __init__(self, index: VectorIndex) -> None:
        self.index = index

    # Knowledge bases.

    async def list_for(self, organization_id: str) -> list[KnowledgeBaseRecord]:
        async with wrap_errors():
            rows = (
                await KnowledgeBase.select()
                .where(KnowledgeBase.organization == organization_id)
                .order_by(KnowledgeBase.name)
            )
        return [_base(row) for row in rows]

    async def get(self, organization_id: str, base_id: str) -> KnowledgeBaseRecord:
        return _base(await self._base_row(organization_id, base_id))

    async def revision(self, base_id: str) -> int:
        async with wrap_errors():
            row = (
                await KnowledgeBase.select(KnowledgeBase.revision)
                .where(KnowledgeBase.id == base_id)
                .first()
            )
        return int(row["revision"]) if row else 0

    async def by_names(
        self, organization_id: str, names: Sequence[str]
    ) -> list[KnowledgeBaseRecord]:
        async with wrap_errors():
            rows = await KnowledgeBase.select().where(
                (KnowledgeBase.organization == organization_id)
                & KnowledgeBase.name.is_in(list(names))
            )
        found = {row["name"]: _base(row) for row in rows}
        missing = [name for name in names if name not in found]
        if missing:
            raise NotFoundError(
                f"knowledge base '{missing[0]}' not found", param="inferia.knowledge_bases"
            )
        return [found[name] for name in names]

    async def create(self, organization_id: str, data: KnowledgeBaseCreate) -> KnowledgeBaseRecord:
        async with wrap_errors():
            taken = await KnowledgeBase.exists().where(
                (KnowledgeBase.organization == organization_id) & (KnowledgeBase.name == data.name)
            )
        if taken:
            raise ConflictError(f"a knowledge base named '{data.name}' exists", param="name")
        row_id = uuid.uuid4()
        try:
            await self._insert_base(row_id, organization_id, data)
        except IntegrityViolation:
            # A concurrent creation of the same name won (the unique index).
            raise ConflictError(
                f"a knowledge base named '{data.name}' exists", param="name"
            ) from None
        return await self.get(organization_id, str(row_id))

    async def _insert_base(
        self, row_id: uuid.UUID, organization_id: str, data: KnowledgeBaseCreate
    ) -> None:
        async with wrap_errors():
            await KnowledgeBase(
                id=row_id,
                organization=organization_id,
                name=data.name,
                embedding_model=data.embedding_model,
                chunk_tokens=data.chunk_tokens,
                chunk_overlap=data.chunk_overlap,
            ).save()

    async def delete(self, organization_id: str, base_id: str) -> KnowledgeBaseRecord:
        record = await self.get(organization_id, base_id)
        await _refuse_if_a_default(organization_id, record.name)
        async with wrap_errors():
            rows = await KnowledgeDocument.select(KnowledgeDocument.id).where(
                KnowledgeDocument.knowledge_base == record.id
            )
        await self.index.delete_documents([str(row["id"]) for row in rows])
        async with wrap_errors():
            await KnowledgeDocument.delete().where(KnowledgeDocument.knowledge_base == record.id)
            await KnowledgeBase.delete().where(KnowledgeBase.id == record.id)
        return record

    async def set_dimensions(self, base_id: str, dimensions: int) -> int:
        """The knowledge base's dimensions: ``dimensions`` if none were set yet."""
        async with wrap_errors():
            await KnowledgeBase.update({KnowledgeBase.dimensions: dimensions}).where(
                (KnowledgeBase.id == base_id) & KnowledgeBase.dimensions.is_null()
            )
            row = (
                await KnowledgeBase.select(KnowledgeBase.dimensions)
                .where(KnowledgeBase.id == base_id)
                .first()
            )
        return int(row["dimensions"]) if row and row["dimensions"] is not None else dimensions

    # Documents.

    async def documents(self, organization_id: str, base_id: str) -> list[DocumentRecord]:
        base = await self.get(organization_id, base_id)
        async with wrap_errors():
            rows = (
                await KnowledgeDocument.select(*_DOCUMENT_COLUMNS)
                .where(KnowledgeDocument.knowledge_base == base.id)
                .order_by(KnowledgeDocument.created_at)
            )
        return [_document(row) for row in rows]

    async def document(
        self, organization_id: str, base_id: str, document_id: str
    ) -> DocumentRecord:
        base = await self.get(organization_id, base_id)
        document_id = _uuid(document_id, "document")
        async with wrap_errors():
            row = (
                await KnowledgeDocument.select(*_DOCUMENT_COLUMNS)
                .where(
                    (KnowledgeDocument.id == document_id)
                    & (KnowledgeDocument.knowledge_base == base.id)
                )
                .first()
            )
        if row is None:
            raise NotFoundError("document not found")
        return _document(row)

    async def add_document(
        self, organization_id: str, base_id: str, upload: Upload
    ) -> DocumentRecord:
        base = await self.get(organization_id, base_id)
        row_id = uuid.uuid4()
        async with wrap_errors():
            await KnowledgeDocument(
                id=row_id,
                knowledge_base=base.id,
                organization=organization_id,
                name=upload.name,
                title=upload.title,
                content_type=upload.content_type,
                size_bytes=len(upload.content),
                content=upload.content,
            ).save()
        return await self.document(organization_id, base.id, str(row_id))

    async def delete_document(
        self, organization_id: str, base_id: str, document_id: str
    ) -> DocumentRecord:
        record = await self.document(organization_id, base_id, document_id)
        await self.index.delete_documents([record.id])
        async with wrap_errors():
            await KnowledgeDocument.delete().where(KnowledgeDocument.id == record.id)
        await self._bump(record.knowledge_base_id)
        return record

    async def unfinished(self, *, started: bool) -> list[str]:
        """Documents that are not ready nor failed: ``queued`` ones only, or (``started``)
        those being ingested too. What a starting process queues again."""
        states = ["queued", "parsing", "embedding"] if started else ["queued"]
        async with wrap_errors():
            rows = await KnowledgeDocument.select(KnowledgeDocument.id).where(
                KnowledgeDocument.state.is_in(states)
            )
        return [str(row["id"]) for row in rows]

    # Ingestion.

    async def ingest_source(self, document_id: str) -> IngestSource | None:
        async with wrap_errors():
            row = (
                await KnowledgeDocument.select().where(KnowledgeDocument.id == document_id).first()
            )
            if row is None:
                return None
            base = (
                await KnowledgeBase.select()
                .where(KnowledgeBase.id == row["knowledge_base"])
                .first()
            )
        if base is None:
            return None
        return IngestSource(
            document=_document(row),
            organization_id=str(row["organization"]),
            content=bytes(row["content"] or b""),
            base=_base(base),
        )

    async def exists(self, document_id: str) -> bool:
        async with wrap_errors():
            return bool(await KnowledgeDocument.exists().where(KnowledgeDocument.id == document_id))

    async def set_state(
        self,
        document_id: str,
        state: str,
        *,
        error: str | None = None,
        chunks_total: int | None = None,
        chunks_done: int | None = None,
    ) -> None:
        values: dict[Any, Any] = {
            KnowledgeDocument.state: state,
            KnowledgeDocument.updated_at: datetime.now(UTC),
        }
        if error is not None:
            values[KnowledgeDocument.error] = error[:2000]
            values[KnowledgeDocument.content] = b""
        if chunks_total is not None:
            values[KnowledgeDocument.chunks_total] = chunks_total
        if chunks_done is not None:
            values[KnowledgeDocument.chunks_done] = chunks_done
        async with wrap_errors():
            await KnowledgeDocument.update(values).where(KnowledgeDocument.id == document_id)

    async def mark_ready(self, source: IngestSource) -> bool:
        """In the caller's transaction: the document becomes searchable, and any older
        document of the same name in its knowledge base goes (with its chunks), so a
        re-upload replaces the previous version at once. False: it was deleted."""
        document = source.document
        async with wrap_errors():
            current = (
                await KnowledgeDocument.select(KnowledgeDocument.state)
                .where(KnowledgeDocument.id == document.id)
                .first()
            )
            if current is None or current["state"] in TERMINAL_STATES:
                return False
            older = await KnowledgeDocument.select(KnowledgeDocument.id).where(
                (KnowledgeDocument.knowledge_base == document.knowledge_base_id)
                & (KnowledgeDocument.name == document.name)
                & (KnowledgeDocument.id != document.id)
                & (KnowledgeDocument.created_at <= document.created_at)
            )
            older_ids = [str(row["id"]) for row in older]
            await self.index.delete_documents(older_ids)
            if older_ids:
                await KnowledgeDocument.delete().where(KnowledgeDocument.id.is_in(older_ids))
            await KnowledgeDocument.update(
                {
                    KnowledgeDocument.state: "ready",
                    KnowledgeDocument.content: b"",
                    KnowledgeDocument.updated_at: datetime.now(UTC),
                }
            ).where(KnowledgeDocument.id == document.id)
        await self._bump(document.knowledge_base_id)
        return True

    async def _bump(self, base_id: str) -> None:
        async with wrap_errors():
            await KnowledgeBase.update({KnowledgeBase.revision: KnowledgeBase.revision + 1}).where(
                KnowledgeBase.id == base_id
            )

    async def _base_row(self, organization_id: str, base_id: str) -> dict[str, Any]:
        base_id = _uuid(base_id, "knowledge base")
        async with wrap_errors():
            row = (
                await KnowledgeBase.select()
                .where(
                    (KnowledgeBase.id == base_id) & (KnowledgeBase.organization == organization_id)
                )
                .first()
            )
        if row is None:
            raise NotFoundError("knowledge base not found")
        return row


def _base(row: dict[str, Any]) -> KnowledgeBaseRecord:
    return KnowledgeBaseRecord(
        id=str(row["id"]),
        organization_id=str(row["organization"]),
        name=row["name"],
        embedding_model=row["embedding_model"],
        chunk_tokens=row["chunk_tokens"],
        chunk_overlap=row["chunk_overlap"],
        dimensions=row["dimensions"],
        created_at=row["created_at"],
    )


def _document(row: dict[str, Any]) -> DocumentRecord:
    return DocumentRecord(
        id=str(row["id"]),
        knowledge_base_id=str(row["knowledge_base"]),
        name=row["name"],
        title=row["title"],
        content_type=row["content_type"],
        size_bytes=row["size_bytes"],
        state=row["state"],
        progress=Progress(chunks_done=row["chunks_done"], chunks_total=row["chunks_total"]),
        error=row["error"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def _refuse_if_a_default(organization_id: str, name: str) -> None:
    """A knowledge base a model searches by default stays until the model lets it go:
    deleting it would fail every request to that model."""
    async with wrap_errors():
        models = await ModelDeployment.select(
            ModelDeployment.name, ModelDeployment.knowledge_bases
        ).where(ModelDeployment.organization == organization_id)
    users = sorted(m["name"] for m in models if name in json.loads(m["knowledge_bases"]))
    if users:
        raise ConflictError(
            f"the knowledge base is a default of the models {', '.join(users)}"
        )
