"""Knowledge-base retrieval benchmark: the embedded exact index and the local embedder.

Run (from the repository root):  python -m tests.perf.bench_knowledge [--sizes 1000 10000 100000]

For each size, a SQLite database holds that many random 384-dimension chunks (the local
model's size) of one knowledge base, all ready. Measured with ``time.perf_counter``,
median of several queries:
- cold: the first search after a change (reads every vector from SQLite into the
  in-memory matrix, then searches);
- warm: later searches (matrix product + top-k over the cached matrix, then reading
  the k texts);
- numpy only: the matrix product and top-k without the database.
Then the local embedder (plugins/inferia-embeddings-local) on one ~20-token question,
which every retrieval pays once.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

from inferia.config import DatabaseSettings
from inferia.db import Database, apply_migrations
from inferia.filtration.knowledge_bases.sqlite_index import SqliteVectorIndex
from inferia.tables import all_tables

DIMENSIONS = 384
TOP_K = 4


def _fill(path: Path, base_id: str, count: int, rng: np.random.Generator) -> None:
    """Rows written with sqlite3 directly: the set-up, not what is measured."""
    document_id = str(uuid.uuid4())
    org_id = str(uuid.uuid4())
    vectors = rng.standard_normal((count, DIMENSIONS), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO organizations (id, slug, name) VALUES (?, ?, ?)", (org_id, "b", "b")
        )
        connection.execute(
            "INSERT INTO knowledge_bases (id, organization, name, embedding_model, chunk_tokens,"
            " chunk_overlap, dimensions, revision, created_at) VALUES (?, ?, 'kb', 'm', 400, 50,"
            " ?, 1, '2026-12-07 00:00:00+00:00')",
            (base_id, org_id, DIMENSIONS),
        )
        connection.execute(
            "INSERT INTO kb_documents (id, knowledge_base, organization, name, title, "
            "content_type, size_bytes, state, chunks_total, chunks_done, content, created_at, "
            "updated_at) VALUES (?, ?, ?, 'd', 'd', 'text/plain', 0, 'ready', ?, ?, x'', "
            "'2026-12-07 00:00:00+00:00', '2026-12-07 00:00:00+00:00')",
            (document_id, base_id, org_id, count, count),
        )
        connection.executemany(
            "INSERT INTO kb_chunks VALUES (?, ?, ?, ?, ?)",
            (
                (document_id, i, base_id, f"chunk {i} " * 40, vectors[i].tobytes())
                for i in range(count)
            ),
        )


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def _bench_size(count: int, rng: np.random.Generator) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        database = Database(DatabaseSettings(), Path(tmp), all_tables())
        await database.start()
        try:
            await apply_migrations(database)
            index = SqliteVectorIndex()
            await index.start()
            base_id = str(uuid.uuid4())
            assert database.sqlite_path is not None
            _fill(database.sqlite_path, base_id, count, rng)
            queries = rng.standard_normal((12, DIMENSIONS), dtype=np.float32)
            queries /= np.linalg.norm(queries, axis=1, keepdims=True)
            cold: list[float] = []
            for revision, query in enumerate(queries[:3], start=100):
                started = time.perf_counter()
                await index.search(base_id, DIMENSIONS, revision, query, TOP_K)
                cold.append(time.perf_counter() - started)
            warm: list[float] = []
            for query in queries:
                started = time.perf_counter()
                await index.search(base_id, DIMENSIONS, 102, query, TOP_K)
                warm.append(time.perf_counter() - started)
            matrix = index._matrices[base_id].vectors
            pure: list[float] = []
            for query in queries:
                started = time.perf_counter()
                scores = matrix @ query
                best = np.argpartition(-scores, TOP_K - 1)[:TOP_K]
                best[np.argsort(-scores[best])]
                pure.append(time.perf_counter() - started)
            return {
                "cold_ms": _median_ms(cold),
                "warm_ms": _median_ms(warm),
                "numpy_ms": _median_ms(pure),
                "matrix_mb": matrix.nbytes / 1e6,
            }
        finally:
            await database.close()


def _bench_embedder() -> float | None:
    try:
        from inferia_embeddings_local import create
    except ImportError:
        return None
    model = create()
    question = "How many days of paid vacation does a full-time employee get each year?"
    model.embed([question])
    samples = []
    for _ in range(20):
        started = time.perf_counter()
        model.embed([question])
        samples.append(time.perf_counter() - started)
    return _median_ms(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    print(f"{'chunks':>8} {'cold ms':>9} {'warm ms':>9} {'numpy ms':>9} {'matrix MB':>10}")
    for size in args.sizes:
        result = asyncio.run(_bench_size(size, rng))
        print(
            f"{size:>8} {result['cold_ms']:>9.2f} {result['warm_ms']:>9.2f} "
            f"{result['numpy_ms']:>9.3f} {result['matrix_mb']:>10.1f}"
        )
    embed_ms = _bench_embedder()
    if embed_ms is not None:
        print(f"local embedder, one 17-token question: {embed_ms:.1f} ms")


if __name__ == "__main__":
    main()
