"""The vector index: chunks of ready documents, searched by cosine similarity.

Two implementations behind one interface, chosen by the database in use:
``SqliteVectorIndex`` (float32 vectors in BLOBs, exact search with numpy) and
``PgVectorIndex`` (pgvector's ``vector`` with an HNSW index). Both keep their chunks in
``kb_chunks`` keyed by (document, position), so writing a chunk twice stores it once,
and both search only documents in state ``ready``: a document being ingested is never
half-searchable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import msgspec
import numpy as np
import numpy.typing as npt

from inferia.db import Database
from inferia.db.errors import wrap_errors
from inferia.filtration.knowledge_bases.tables import KnowledgeBase

Vector = npt.NDArray[np.float32]


class ChunkIn(msgspec.Struct, frozen=True):
    position: int
    text: str
    vector: list[float]


class Hit(msgspec.Struct, frozen=True, kw_only=True):
    knowledge_base_id: str
    document_id: str
    position: int
    text: str
    score: float


class VectorIndex(Protocol):
    # None when usable; else why not (creation of knowledge bases is then refused).
    unavailable_reason: str | None

    async def start(self) -> None:
        """Create what the index needs (idempotent); sets ``unavailable_reason``."""
        ...

    async def prepare(self, dimensions: int) -> None:
        """Ready the index for vectors of ``dimensions`` (pgvector: its HNSW index)."""
        ...

    async def add(
        self, knowledge_base_id: str, document_id: str, chunks: Sequence[ChunkIn]
    ) -> None:
        """Store chunks; a (document, position) already stored is left as it is. Runs in
        the caller's transaction."""
        ...

    async def positions(self, document_id: str) -> set[int]:
        """Positions of the document's chunks already stored."""
        ...

    async def count(self, document_id: str) -> int: ...

    async def delete_documents(self, document_ids: Sequence[str]) -> None: ...

    async def search(
        self, knowledge_base_id: str, dimensions: int, revision: int, query: Vector, top_k: int
    ) -> list[Hit]:
        """The ``top_k`` most similar chunks of the knowledge base's ready documents."""
        ...


def normalized(vector: Sequence[float]) -> Vector:
    array = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(array))
    return array / norm if norm > 0 else array


def build_vector_index(database: Database) -> VectorIndex:
    if database.kind == "sqlite":
        from inferia.filtration.knowledge_bases.sqlite_index import SqliteVectorIndex

        return SqliteVectorIndex()
    from inferia.filtration.knowledge_bases.pgvector_index import PgVectorIndex

    return PgVectorIndex(database)


class ChunkRows:
    """What both indexes do alike with a document's ``kb_chunks`` rows. Document ids are
    UUIDs on PostgreSQL and text on SQLite: ``_id_param`` is the placeholder for one."""

    _id_param = "{}"

    async def positions(self, document_id: str) -> set[int]:
        query = f'SELECT "position" FROM "kb_chunks" WHERE "document_id" = {self._id_param}'
        async with wrap_errors():
            rows = await KnowledgeBase.raw(query, document_id)
        return {int(row["position"]) for row in rows}

    async def count(self, document_id: str) -> int:
        return len(await self.positions(document_id))

    async def delete_documents(self, document_ids: Sequence[str]) -> None:
        query = f'DELETE FROM "kb_chunks" WHERE "document_id" = {self._id_param}'
        async with wrap_errors():
            for document_id in document_ids:
                await KnowledgeBase.raw(query, document_id)
