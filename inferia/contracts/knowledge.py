"""What the planes share about knowledge bases: the embeddings port, the ingestion
stream, and what retrieval returns.

The policy plane owns knowledge bases and ingests documents; it embeds text through
``Embedder``, which the inference plane implements with its own routing (so any
upstream serves, and local plugins too). The inference plane retrieves through
``Retriever``, which the policy plane implements over its vector index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import msgspec

from inferia.contracts.internal_client import InternalClient
from inferia.core.errors import NotFoundError, RemoteServiceError

# Ingestion jobs: one entry per uploaded document, acknowledged once it is ready or failed.
INGEST_STREAM = "inferia:knowledge:ingest"
INGEST_GROUP = "knowledge-ingesters"


class IngestJob(msgspec.Struct, frozen=True, kw_only=True):
    document_id: str


class Embedder(Protocol):
    async def embed(
        self, organization_id: str, model: str, texts: Sequence[str]
    ) -> list[list[float]]:
        """One vector per text, from ``model`` as ``organization_id`` sees it.
        Raises InferiaError (UpstreamError, NotFoundError) on failure."""
        ...


class Citation(msgspec.Struct, frozen=True, kw_only=True):
    """Where a retrieved chunk comes from (``inferia.citations`` on a completion)."""

    knowledge_base: str
    document_id: str
    title: str
    position: int
    score: float


class RetrievedChunk(msgspec.Struct, frozen=True, kw_only=True):
    text: str
    citation: Citation


class Retriever(Protocol):
    async def retrieve(
        self, organization_id: str, knowledge_bases: Sequence[str], query: str, top_k: int
    ) -> list[RetrievedChunk]:
        """The best ``top_k`` chunks of the organisation's named knowledge bases, above
        the configured similarity threshold, best first. Raises NotFoundError for a
        knowledge base the organisation does not have."""
        ...


RETRIEVE_PATH = "/internal/knowledge/retrieve"


class RetrieveRequest(msgspec.Struct, frozen=True, kw_only=True):
    organization_id: str
    knowledge_bases: list[str]
    query: str
    top_k: int


class RemoteRetriever:
    """The port's remote implementation: asks the filtration plane in another process."""

    def __init__(self, client: InternalClient) -> None:
        self._client = client
        self._decoder = msgspec.json.Decoder(list[RetrievedChunk])

    async def retrieve(
        self, organization_id: str, knowledge_bases: Sequence[str], query: str, top_k: int
    ) -> list[RetrievedChunk]:
        body = RetrieveRequest(
            organization_id=organization_id,
            knowledge_bases=list(knowledge_bases),
            query=query,
            top_k=top_k,
        )
        found = await self._client.call(
            "POST", RETRIEVE_PATH, self._decoder, body=msgspec.json.encode(body), what="retrieval"
        )
        if found is None:
            raise NotFoundError(
                "a knowledge base named in the request does not exist",
                param="inferia.knowledge_bases",
            )
        return found


EMBED_PATH = "/internal/embeddings"


class EmbedRequest(msgspec.Struct, frozen=True, kw_only=True):
    organization_id: str
    model: str
    texts: list[str]


class EmbedReply(msgspec.Struct, frozen=True):
    data: list[list[float]]


class RemoteEmbedder:
    """The embeddings port from a policy plane without the inference plane in process."""

    def __init__(self, client: InternalClient) -> None:
        self._client = client
        self._decoder = msgspec.json.Decoder(EmbedReply)

    async def embed(
        self, organization_id: str, model: str, texts: Sequence[str]
    ) -> list[list[float]]:
        body = EmbedRequest(organization_id=organization_id, model=model, texts=list(texts))
        reply = await self._client.call(
            "POST",
            EMBED_PATH,
            self._decoder,
            body=msgspec.json.encode(body),
            what="embeddings",
        )
        if reply is None:
            raise NotFoundError(f"the embeddings model '{model}' does not exist")
        return reply.data


class EmbedderSlot:
    """The policy plane's ``Embedder``, bound by the app factory once the inference
    plane (which owns routing) is built in the same process."""

    def __init__(self) -> None:
        self._embedder: Embedder | None = None

    @property
    def bound(self) -> bool:
        return self._embedder is not None

    def bind(self, embedder: Embedder) -> None:
        self._embedder = embedder

    async def embed(
        self, organization_id: str, model: str, texts: Sequence[str]
    ) -> list[list[float]]:
        if self._embedder is None:
            raise RemoteServiceError("no embeddings service in this process (the inference plane)")
        return await self._embedder.embed(organization_id, model, texts)
