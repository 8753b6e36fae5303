"""The embedded vector index: float32 vectors in SQLite BLOBs, searched exactly with numpy.

sqlite-vec would need ``sqlite3.Connection.enable_load_extension``, which many Python
builds lack (this machine's included), so the search is a matrix product over every
chunk of the knowledge base: exact, and measured in docs/performance.md. The matrix of
each knowledge base is cached in memory with the knowledge base's ``revision`` (bumped
in the transaction that changes its searchable chunks), so a search reads no vectors
unless something changed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from inferia.db.errors import wrap_errors
from inferia.filtration.knowledge_bases.tables import KnowledgeBase
from inferia.filtration.knowledge_bases.vector_index import (
    ChunkIn,
    ChunkRows,
    Hit,
    Vector,
    normalized,
)

_CREATE = (
    'CREATE TABLE IF NOT EXISTS "kb_chunks" ('
    '"document_id" TEXT NOT NULL, "position" INTEGER NOT NULL, '
    '"knowledge_base_id" TEXT NOT NULL, "text" TEXT NOT NULL, "embedding" BLOB NOT NULL, '
    'PRIMARY KEY ("document_id", "position"))',
    'CREATE INDEX IF NOT EXISTS "kb_chunks_kb" ON "kb_chunks" ("knowledge_base_id")',
)
# Knowledge bases whose matrices stay in memory at once.
_CACHED = 32


class _Matrix:
    __slots__ = ("documents", "positions", "revision", "rowids", "vectors")

    def __init__(
        self,
        revision: int,
        vectors: Vector,
        documents: list[str],
        positions: list[int],
        rowids: list[int],
    ) -> None:
        self.revision = revision
        self.rowids = rowids
        self.vectors = vectors  # rows normalised: a dot product is the cosine
        self.documents = documents
        self.positions = positions


class SqliteVectorIndex(ChunkRows):
    unavailable_reason: str | None = None

    def __init__(self) -> None:
        self._matrices: OrderedDict[str, _Matrix] = OrderedDict()

    async def start(self) -> None:
        async with wrap_errors():
            for statement in _CREATE:
                await KnowledgeBase.raw(statement)

    async def prepare(self, dimensions: int) -> None:
        return None

    async def add(
        self, knowledge_base_id: str, document_id: str, chunks: Sequence[ChunkIn]
    ) -> None:
        async with wrap_errors():
            for chunk in chunks:
                await KnowledgeBase.raw(
                    'INSERT INTO "kb_chunks" ("document_id", "position", "knowledge_base_id", '
                    '"text", "embedding") VALUES ({}, {}, {}, {}, {}) '
                    'ON CONFLICT ("document_id", "position") DO NOTHING',
                    document_id,
                    chunk.position,
                    knowledge_base_id,
                    chunk.text,
                    normalized(chunk.vector).tobytes(),
                )

    async def search(
        self, knowledge_base_id: str, dimensions: int, revision: int, query: Vector, top_k: int
    ) -> list[Hit]:
        matrix = await self._matrix(knowledge_base_id, dimensions, revision)
        count = len(matrix.documents)
        if count == 0 or top_k <= 0:
            return []
        scores = matrix.vectors @ query
        k = min(top_k, count)
        # argpartition is O(n); only the k winners are sorted.
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best])]
        winners = best.tolist()
        rowids = [matrix.rowids[i] for i in winners]
        # One query for the k texts (by rowid: piccolo opens a connection per query).
        marks = ", ".join("{}" for _ in rowids)
        async with wrap_errors():
            rows = await KnowledgeBase.raw(
                f'SELECT rowid AS id, "document_id", "position", "text" FROM "kb_chunks" '
                f"WHERE rowid IN ({marks})",
                *rowids,
            )
        # A rowid only counts while it is still the same chunk (rowids can be reused).
        texts = {
            (int(row["id"]), str(row["document_id"]), int(row["position"])): row["text"]
            for row in rows
        }
        hits: list[Hit] = []
        for index, rowid in zip(winners, rowids, strict=True):
            key = (rowid, matrix.documents[index], matrix.positions[index])
            if key in texts:  # else deleted since the matrix was read
                hits.append(
                    Hit(
                        knowledge_base_id=knowledge_base_id,
                        document_id=matrix.documents[index],
                        position=matrix.positions[index],
                        text=texts[key],
                        score=float(scores[index]),
                    )
                )
        return hits

    async def _matrix(self, knowledge_base_id: str, dimensions: int, revision: int) -> _Matrix:
        cached = self._matrices.get(knowledge_base_id)
        if cached is not None and cached.revision == revision:
            self._matrices.move_to_end(knowledge_base_id)
            return cached
        async with wrap_errors():
            rows = await KnowledgeBase.raw(
                'SELECT c.rowid AS id, c."document_id", c."position", c."embedding" '
                'FROM "kb_chunks" c '
                'JOIN "kb_documents" d ON d."id" = c."document_id" '
                'WHERE c."knowledge_base_id" = {} AND d."state" = \'ready\'',
                knowledge_base_id,
            )
        blob = b"".join(row["embedding"] for row in rows)
        vectors = np.frombuffer(blob, dtype=np.float32).reshape(len(rows), dimensions)
        matrix = _Matrix(
            revision,
            vectors,
            [str(row["document_id"]) for row in rows],
            [int(row["position"]) for row in rows],
            [int(row["id"]) for row in rows],
        )
        self._matrices[knowledge_base_id] = matrix
        if len(self._matrices) > _CACHED:
            self._matrices.popitem(last=False)
        return matrix
