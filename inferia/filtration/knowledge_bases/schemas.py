"""Request and response bodies of ``/management/knowledge-bases``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar.datastructures import UploadFile

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._-]+$")]
ModelName = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^\S+$")]
DocumentState = Literal["queued", "parsing", "embedding", "ready", "failed"]


class KnowledgeBaseCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    embedding_model: ModelName
    chunk_tokens: Annotated[int, msgspec.Meta(ge=16, le=8192)] = 400
    chunk_overlap: Annotated[int, msgspec.Meta(ge=0, le=4096)] = 50


class KnowledgeBaseRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    organization_id: str
    name: str
    embedding_model: str
    chunk_tokens: int
    chunk_overlap: int
    # Set once the first chunk is embedded.
    dimensions: int | None
    created_at: datetime


@dataclass
class DocumentUpload:
    """The multipart form of an upload."""

    file: UploadFile
    title: str | None = None


class Progress(msgspec.Struct, frozen=True, kw_only=True):
    chunks_done: int
    chunks_total: int


class DocumentRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    knowledge_base_id: str
    name: str
    title: str
    content_type: str
    size_bytes: int
    state: DocumentState
    progress: Progress
    # Why ingestion failed (state "failed").
    error: str | None
    created_at: datetime
    updated_at: datetime


class SearchRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    query: Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)]
    top_k: Annotated[int, msgspec.Meta(ge=1, le=100)] | None = None


class SearchHit(msgspec.Struct, frozen=True, kw_only=True):
    document_id: str
    title: str
    position: int
    score: float
    text: str
