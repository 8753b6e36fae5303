"""The PostgreSQL vector index: pgvector's ``vector`` column with HNSW indexes.

Knowledge bases may use embedding models of different sizes, so the column is an
untyped ``vector`` with a ``dimensions`` column beside it, and each size gets its own
partial HNSW index over ``embedding::vector(N)`` (what pgvector documents for mixed
dimensions). A search filters by knowledge base after the index scan; pgvector's
iterative scan keeps reading the index until enough rows pass the filter.

Without the extension the index says so at start-up (``unavailable_reason``) and the
service refuses to create knowledge bases, rather than degrading to something slower.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from inferia.core.errors import StorageError
from inferia.db import Database
from inferia.db.errors import wrap_errors
from inferia.filtration.knowledge_bases.tables import KnowledgeBase
from inferia.filtration.knowledge_bases.vector_index import (
    ChunkIn,
    ChunkRows,
    Hit,
    Vector,
    normalized,
)

log = logging.getLogger(__name__)

_CREATE = (
    'CREATE TABLE IF NOT EXISTS "kb_chunks" ('
    '"document_id" UUID NOT NULL, "position" INTEGER NOT NULL, '
    '"knowledge_base_id" UUID NOT NULL, "text" TEXT NOT NULL, '
    '"dimensions" INTEGER NOT NULL, "embedding" vector NOT NULL, '
    'PRIMARY KEY ("document_id", "position"))',
    'CREATE INDEX IF NOT EXISTS "kb_chunks_kb" ON "kb_chunks" ("knowledge_base_id")',
)
INSTALL_HINT = (
    "the PostgreSQL extension pgvector is not installed: knowledge bases need it "
    "(docs/prompting.md#installing-pgvector)"
)


def _literal(vector: Vector) -> str:
    # pgvector's text form; sent as text and cast, so asyncpg needs no codec for it.
    return "[" + ",".join(repr(float(x)) for x in vector.tolist()) + "]"


class PgVectorIndex(ChunkRows):
    _id_param = "{}::uuid"

    def __init__(self, database: Database) -> None:
        self._database = database
        self.unavailable_reason: str | None = None
        self._prepared: set[int] = set()

    async def start(self) -> None:
        async with wrap_errors():
            rows = await KnowledgeBase.raw(
                "SELECT 1 AS ok FROM pg_available_extensions WHERE name = 'vector'"
            )
        if not rows:
            self.unavailable_reason = INSTALL_HINT
            log.warning("knowledge bases are disabled: %s", INSTALL_HINT)
            return
        try:
            async with wrap_errors():
                await KnowledgeBase.raw("CREATE EXTENSION IF NOT EXISTS vector")
                for statement in _CREATE:
                    await KnowledgeBase.raw(statement)
        except StorageError as exc:
            # Installed but not creatable by this role (CREATE needs privileges).
            self.unavailable_reason = f"pgvector could not be enabled: {exc.message}"
            log.warning("knowledge bases are disabled: %s", self.unavailable_reason)
            return
        self.unavailable_reason = None

    async def prepare(self, dimensions: int) -> None:
        if dimensions in self._prepared:
            return
        # dimensions is an int from our own code: safe to put in the statement.
        size = int(dimensions)
        async with wrap_errors():
            await KnowledgeBase.raw(
                f'CREATE INDEX IF NOT EXISTS "kb_chunks_hnsw_{size}" ON "kb_chunks" '
                f'USING hnsw (("embedding"::vector({size})) vector_cosine_ops) '
                f'WHERE "dimensions" = {size}'
            )
        self._prepared.add(size)

    async def add(
        self, knowledge_base_id: str, document_id: str, chunks: Sequence[ChunkIn]
    ) -> None:
        async with wrap_errors():
            for chunk in chunks:
                await KnowledgeBase.raw(
                    'INSERT INTO "kb_chunks" ("document_id", "position", "knowledge_base_id", '
                    '"text", "dimensions", "embedding") '
                    "VALUES ({}::uuid, {}, {}::uuid, {}, {}, {}::text::vector) "
                    'ON CONFLICT ("document_id", "position") DO NOTHING',
                    document_id,
                    chunk.position,
                    knowledge_base_id,
                    chunk.text,
                    len(chunk.vector),
                    _literal(normalized(chunk.vector)),
                )

    async def search(
        self, knowledge_base_id: str, dimensions: int, revision: int, query: Vector, top_k: int
    ) -> list[Hit]:
        size = int(dimensions)
        distance = f'c."embedding"::vector({size}) <=> {{}}::text::vector({size})'
        literal = _literal(query)
        async with self._database.transaction():
            # Keep scanning the HNSW graph until enough rows pass the knowledge-base
            # filter (pgvector >= 0.8), else other knowledge bases could crowd them out.
            await KnowledgeBase.raw("SET LOCAL hnsw.iterative_scan = strict_order")
            rows = await KnowledgeBase.raw(
                f'SELECT c."document_id", c."position", c."text", {distance} AS distance '
                'FROM "kb_chunks" c JOIN "kb_documents" d ON d."id" = c."document_id" '
                f'WHERE c."dimensions" = {size} AND c."knowledge_base_id" = {{}}::uuid '
                "AND d.\"state\" = 'ready' "
                f"ORDER BY {distance} LIMIT {{}}",
                literal,
                knowledge_base_id,
                literal,
                int(top_k),
            )
        return [
            Hit(
                knowledge_base_id=knowledge_base_id,
                document_id=str(row["document_id"]),
                position=int(row["position"]),
                text=row["text"],
                score=1.0 - float(row["distance"]),
            )
            for row in rows
        ]
