"""Retrieval over an organisation's knowledge bases: the in-process ``Retriever`` port,
and the search behind ``POST /management/knowledge-bases/{id}/search``.

The query is embedded once per embeddings model among the knowledge bases named, each
knowledge base is searched for ``top_k``, and the best ``top_k`` overall above
``min_score`` are kept.
"""

from __future__ import annotations

from collections.abc import Sequence

from inferia.config import KnowledgeSettings
from inferia.contracts.knowledge import Citation, Embedder, RetrievedChunk
from inferia.core.errors import ValidationError
from inferia.db.errors import wrap_errors
from inferia.filtration.knowledge_bases.schemas import KnowledgeBaseRecord
from inferia.filtration.knowledge_bases.store import KnowledgeStore
from inferia.filtration.knowledge_bases.tables import KnowledgeDocument
from inferia.filtration.knowledge_bases.vector_index import Hit, normalized


class KnowledgeRetriever:
    def __init__(
        self, store: KnowledgeStore, embedder: Embedder, settings: KnowledgeSettings
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._settings = settings

    async def retrieve(
        self, organization_id: str, knowledge_bases: Sequence[str], query: str, top_k: int
    ) -> list[RetrievedChunk]:
        bases = await self._store.by_names(organization_id, list(dict.fromkeys(knowledge_bases)))
        hits = await self.search(organization_id, bases, query, top_k)
        return await self._with_titles(bases, hits)

    async def search(
        self,
        organization_id: str,
        bases: Sequence[KnowledgeBaseRecord],
        query: str,
        top_k: int,
    ) -> list[Hit]:
        if top_k > self._settings.max_top_k:
            raise ValidationError(f"top_k is at most {self._settings.max_top_k}", param="top_k")
        hits: list[Hit] = []
        vectors: dict[str, list[float]] = {}
        for base in bases:
            if base.dimensions is None:
                continue  # nothing embedded yet
            if base.embedding_model not in vectors:
                embedded = await self._embedder.embed(
                    organization_id, base.embedding_model, [query]
                )
                vectors[base.embedding_model] = embedded[0]
            query_vector = vectors[base.embedding_model]
            if len(query_vector) != base.dimensions:
                continue
            revision = await self._store.revision(base.id)
            hits += await self._store.index.search(
                base.id, base.dimensions, revision, normalized(query_vector), top_k
            )
        hits = [hit for hit in hits if hit.score >= self._settings.min_score]
        hits.sort(key=lambda hit: hit.score, reverse=True)
        return hits[:top_k]

    async def titles(self, document_ids: Sequence[str]) -> dict[str, str]:
        if not document_ids:
            return {}
        async with wrap_errors():
            rows = await KnowledgeDocument.select(
                KnowledgeDocument.id, KnowledgeDocument.title
            ).where(KnowledgeDocument.id.is_in(list(document_ids)))
        return {str(row["id"]): row["title"] for row in rows}

    async def _with_titles(
        self, bases: Sequence[KnowledgeBaseRecord], hits: Sequence[Hit]
    ) -> list[RetrievedChunk]:
        names = {base.id: base.name for base in bases}
        titles = await self.titles(list({hit.document_id for hit in hits}))
        return [
            RetrievedChunk(
                text=hit.text,
                citation=Citation(
                    knowledge_base=names[hit.knowledge_base_id],
                    document_id=hit.document_id,
                    title=titles.get(hit.document_id, ""),
                    position=hit.position,
                    score=round(hit.score, 4),
                ),
            )
            for hit in hits
        ]
