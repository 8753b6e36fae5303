"""The ``[knowledge]`` section: knowledge bases (uploads, ingestion, retrieval)."""

from __future__ import annotations

import msgspec

DEFAULT_CONTEXT_TEMPLATE = (
    "Answer using the context below when it is relevant. Each passage is marked with its "
    "source.\n\n{context}"
)


class KnowledgeSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    # Largest document accepted by an upload, in bytes.
    max_upload_bytes: int = 10 * 1024 * 1024
    # Longest extracted text of one document, in characters (a PDF can expand).
    max_document_chars: int = 2_000_000
    # Chunk texts sent to the embeddings model per call.
    embed_batch_size: int = 32
    # Ingestion jobs read by a consumer that died unacknowledged are taken over after this.
    claim_idle_s: float = 60.0
    # Embedding model names served in-process by the `inferia.embeddings` plugin "local".
    local_embedding_models: list[str] = msgspec.field(default_factory=list)
    # Retrieval: chunks below this cosine similarity are never injected.
    min_score: float = 0.2
    default_top_k: int = 4
    max_top_k: int = 20
    # Knowledge bases searched for a model's requests that name none: {"model" = ["kb", ...]},
    # resolved in the caller's organisation.
    model_knowledge_bases: dict[str, list[str]] = msgspec.field(default_factory=dict)
    # Retrieve before the input guardrails, so the injected chunks are scanned (redacted,
    # blocked) by the organisation's input policy like the request's own messages.
    guard_retrieved_text: bool = True
    # The system message that carries retrieved chunks; {context} is replaced by them.
    context_template: str = DEFAULT_CONTEXT_TEMPLATE
