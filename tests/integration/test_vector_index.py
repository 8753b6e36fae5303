"""The two VectorIndex implementations, on the database each serves: exact search on
SQLite, pgvector's HNSW on PostgreSQL. Only ready documents are found, a knowledge base
never sees another's chunks, and a small knowledge base is not crowded out of the HNSW
scan by a large one that shares its vector size (pgvector's iterative scan)."""

from __future__ import annotations

import uuid

import numpy as np

from inferia.db import Database
from inferia.filtration.identity.tables import Organization
from inferia.filtration.knowledge_bases.schemas import KnowledgeBaseCreate
from inferia.filtration.knowledge_bases.store import KnowledgeStore, Upload
from inferia.filtration.knowledge_bases.vector_index import ChunkIn, build_vector_index

DIMENSIONS = 32


async def _organization() -> str:
    org_id = uuid.uuid4()
    await Organization(id=org_id, slug=f"o-{org_id.hex[:10]}", name="Org").save()
    return str(org_id)


async def _filled(
    store: KnowledgeStore, database: Database, org: str, name: str, vectors: np.ndarray, ready: bool
) -> tuple[str, str]:
    base = await store.create(org, KnowledgeBaseCreate(name=name, embedding_model="m"))
    await store.set_dimensions(base.id, DIMENSIONS)
    await store.index.prepare(DIMENSIONS)
    document = await store.add_document(
        org,
        base.id,
        Upload(name=f"{name}.txt", title=name, content_type="text/plain", content=b"x"),
    )
    chunks = [ChunkIn(i, f"{name} chunk {i}", v.tolist()) for i, v in enumerate(vectors)]
    async with database.transaction():
        await store.index.add(base.id, document.id, chunks)
    if ready:
        source = await store.ingest_source(document.id)
        assert source is not None
        async with database.transaction():
            assert await store.mark_ready(source)
    return base.id, document.id


async def test_search_is_scoped_and_skips_unready_documents(database: Database) -> None:
    store = KnowledgeStore(build_vector_index(database))
    await store.index.start()
    assert store.index.unavailable_reason is None  # PostgreSQL: pgvector must be there
    rng = np.random.default_rng(1)
    org = await _organization()
    big, _ = await _filled(
        store, database, org, "big", rng.standard_normal((3000, DIMENSIONS)), ready=True
    )
    small_vectors = rng.standard_normal((5, DIMENSIONS))
    small, small_doc = await _filled(store, database, org, "small", small_vectors, ready=True)
    pending, _ = await _filled(
        store, database, await _organization(), "pending", small_vectors, ready=False
    )

    for position, vector in enumerate(small_vectors):
        query = (vector / np.linalg.norm(vector)).astype(np.float32)
        revision = await store.revision(small)
        hits = await store.index.search(small, DIMENSIONS, revision, query, 5)
        # Every chunk of the small base, the query's own first, none of the big one.
        assert len(hits) == 5
        assert (hits[0].document_id, hits[0].position) == (small_doc, position)
        assert hits[0].score > 0.99
        assert {hit.knowledge_base_id for hit in hits} == {small}

    query = small_vectors[0] / np.linalg.norm(small_vectors[0])
    assert await store.index.search(pending, DIMENSIONS, 0, query.astype(np.float32), 5) == []
    hits = await store.index.search(
        big, DIMENSIONS, await store.revision(big), query.astype(np.float32), 10
    )
    assert len(hits) == 10 and {hit.knowledge_base_id for hit in hits} == {big}
    assert hits == sorted(hits, key=lambda hit: hit.score, reverse=True)
