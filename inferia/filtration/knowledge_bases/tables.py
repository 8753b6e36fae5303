"""The knowledge_bases and kb_documents tables.

Chunks and their vectors live in ``kb_chunks``, which the vector index creates itself
(``vector_index``): its vector column is a BLOB on SQLite and pgvector's ``vector`` on
PostgreSQL, which exists only where the extension is installed.
"""

from __future__ import annotations

from piccolo.columns import UUID, Bytea, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from inferia.filtration.identity.tables import Organization


class KnowledgeBase(Table, tablename="knowledge_bases"):
    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, on_delete=OnDelete.cascade, index=True)
    # Unique per organisation (the name requests use).
    name = Varchar(length=200)
    # The embeddings model (a model name of the organisation, or a local one).
    embedding_model = Varchar(length=200)
    chunk_tokens = Integer(default=400)
    chunk_overlap = Integer(default=50)
    # Set by the first embedded chunk; every later vector must have as many.
    dimensions = Integer(null=True, default=None)
    # Bumped whenever the searchable chunks change: caches of the exact index follow it.
    revision = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class KnowledgeDocument(Table, tablename="kb_documents"):
    id = UUID(primary_key=True)
    knowledge_base = ForeignKey(KnowledgeBase, null=False, on_delete=OnDelete.cascade, index=True)
    organization = ForeignKey(Organization, null=False, on_delete=OnDelete.cascade, index=True)
    # The uploaded file's name: a later upload with the same name replaces this one.
    name = Varchar(length=300)
    title = Varchar(length=300)
    content_type = Varchar(length=100)
    size_bytes = Integer(default=0)
    # queued -> parsing -> embedding -> ready | failed; only ready documents are searched.
    state = Varchar(length=20, default="queued")
    error = Text(null=True, default=None)
    chunks_total = Integer(default=0)
    chunks_done = Integer(default=0)
    # The uploaded bytes, kept until the document is ready (ingestion resumes from them).
    content = Bytea(default=b"")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
