"""Ingestion: the consumer of the ingestion stream, one document per entry.

queued -> parsing -> embedding -> ready | failed(reason). Chunks are embedded in
batches; each batch's chunks and the progress commit together, keyed by (document,
position), so an ingester that dies mid-document leaves its entry unacknowledged, and
whoever claims it (``claim_idle_s`` later, or a restart) embeds only the chunks not yet
stored: every chunk ends up exactly once. The document becomes searchable in one
transaction at the end (``KnowledgeStore.mark_ready``); until then searches skip it.

Failures of the document itself (unreadable, empty, the embeddings model refusing)
end in ``failed`` with the reason; a database or state backend outage raises, so the
entry stays pending and is retried.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import msgspec

from inferia.config import KnowledgeSettings
from inferia.contracts.knowledge import INGEST_GROUP, INGEST_STREAM, Embedder, IngestJob
from inferia.core.errors import InferiaError, StateError, StorageError
from inferia.db import Database
from inferia.filtration.knowledge_bases.chunking import chunk_text
from inferia.filtration.knowledge_bases.parsing import ParseError, extract_text, kind_of
from inferia.filtration.knowledge_bases.store import TERMINAL_STATES, IngestSource, KnowledgeStore
from inferia.filtration.knowledge_bases.vector_index import ChunkIn
from inferia.state import StateBackend, StreamMessage
from inferia.state.stream_consumer import StreamConsumer

log = logging.getLogger(__name__)


class _Failed(Exception):
    pass


class DocumentIngester:
    def __init__(
        self,
        store: KnowledgeStore,
        database: Database,
        embedder: Embedder,
        settings: KnowledgeSettings,
    ) -> None:
        self._store = store
        self._database = database
        self._embedder = embedder
        self._settings = settings

    async def ingest(self, document_id: str) -> None:
        source = await self._store.ingest_source(document_id)
        if source is None or source.document.state in TERMINAL_STATES:
            return  # deleted meanwhile, or a redelivered entry of a finished document
        try:
            await self._ingest(source)
        except (StorageError, StateError):
            raise
        except _Failed as exc:
            await self._store.set_state(document_id, "failed", error=str(exc))
        except InferiaError as exc:
            await self._store.set_state(
                document_id, "failed", error=f"embedding failed: {exc.message}"
            )

    async def _ingest(self, source: IngestSource) -> None:
        document, base = source.document, source.base
        await self._store.set_state(document.id, "parsing")
        kind = kind_of(document.name, document.content_type)
        if kind is None:
            raise _Failed("unsupported file type")
        try:
            # pypdf and tiktoken are CPU work: off the event loop.
            text = await asyncio.to_thread(
                extract_text, kind, source.content, self._settings.max_document_chars
            )
        except ParseError as exc:
            raise _Failed(str(exc)) from None
        chunks = await asyncio.to_thread(chunk_text, text, base.chunk_tokens, base.chunk_overlap)
        stored = await self._store.index.positions(document.id)
        await self._store.set_state(
            document.id, "embedding", chunks_total=len(chunks), chunks_done=len(stored)
        )
        todo = [position for position in range(len(chunks)) if position not in stored]
        done = len(stored)
        size = max(1, self._settings.embed_batch_size)
        for start in range(0, len(todo), size):
            if not await self._store.exists(document.id):
                return await self._deleted(document.id)
            batch = todo[start : start + size]
            vectors = await self._embedder.embed(
                source.organization_id, base.embedding_model, [chunks[p] for p in batch]
            )
            await self._check(base.id, base.dimensions, vectors, len(batch))
            done += len(batch)
            async with self._database.transaction():
                await self._store.index.add(
                    base.id,
                    document.id,
                    [ChunkIn(p, chunks[p], v) for p, v in zip(batch, vectors, strict=True)],
                )
                await self._store.set_state(document.id, "embedding", chunks_done=done)
        async with self._database.transaction():
            ready = await self._store.mark_ready(source)
        if not ready and not await self._store.exists(document.id):
            await self._deleted(document.id)

    async def _deleted(self, document_id: str) -> None:
        """The document was deleted while it was ingested: drop the chunks this ingester
        stored after the delete removed the others (they would be searchable by nobody,
        but would stay)."""
        await self._store.index.delete_documents([document_id])

    async def _check(
        self, base_id: str, dimensions: int | None, vectors: Sequence[Sequence[float]], count: int
    ) -> None:
        if len(vectors) != count or not vectors or not vectors[0]:
            raise _Failed("the embeddings model returned no vectors")
        size = len(vectors[0])
        if any(len(vector) != size for vector in vectors):
            raise _Failed("the embeddings model returned vectors of different sizes")
        expected = dimensions or await self._store.set_dimensions(base_id, size)
        if size != expected:
            raise _Failed(
                f"the embeddings model returned {size} dimensions; the knowledge base "
                f"holds vectors of {expected}"
            )
        await self._store.index.prepare(size)


class IngestionConsumer:
    """Drains the ingestion stream (one job per round) in a background task."""

    def __init__(
        self,
        state: StateBackend,
        ingester: DocumentIngester,
        store: KnowledgeStore,
        settings: KnowledgeSettings,
        *,
        name: str | None = None,
    ) -> None:
        self._state = state
        self._ingester = ingester
        self._store = store
        self._decoder = msgspec.json.Decoder(IngestJob)
        self._loop = StreamConsumer(
            state,
            self.write,
            stream=INGEST_STREAM,
            group=INGEST_GROUP,
            label="ingestion consumer",
            name=name,
            # One document at a time: a batch is acknowledged only when all of it is done.
            batch_size=1,
            block_ms=1000,
            claim_idle_ms=int(settings.claim_idle_s * 1000),
        )

    async def start(self) -> None:
        await self._loop.start()

    async def close(self) -> None:
        await self._loop.close()

    async def run_once(self, block_ms: int | None = None) -> int:
        return await self._loop.run_once(block_ms)

    async def write(self, messages: Sequence[StreamMessage]) -> None:
        for message in messages:
            try:
                job = self._decoder.decode(message.payload)
            except msgspec.DecodeError:
                log.error("ingestion consumer: dropping malformed job %s", message.id)
                continue
            await self._ingester.ingest(job.document_id)


async def enqueue(state: StateBackend, document_id: str) -> None:
    await state.stream_add(INGEST_STREAM, msgspec.json.encode(IngestJob(document_id=document_id)))


async def start_knowledge(
    store: KnowledgeStore, consumer: IngestionConsumer, state: StateBackend
) -> None:
    """At start-up: ready the vector index, start ingesting, and queue again documents
    whose job may be lost. A job queued but never read is lost if the process died
    between an upload's commit and its stream entry; with the memory backend every job
    died with the process, those being ingested included (on Redis those stay pending
    and are claimed). A job queued twice is harmless: ingestion is idempotent."""
    await store.index.start()
    await consumer.start()
    for document_id in await store.unfinished(started=not state.shared):
        await enqueue(state, document_id)
