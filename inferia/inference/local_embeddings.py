"""Embedding models that run inside the gateway process, from plugins.

A plugin registers a factory under the ``inferia.embeddings`` entry-point group
(``plugins/inferia-embeddings-local`` registers ``local``); the factory returns a
``LocalEmbeddingModel``. Models are CPU work, so every call runs in a worker thread,
one at a time per model (onnxruntime uses its own threads inside one call).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import Protocol

from inferia.core.errors import ConfigError

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "inferia.embeddings"
PROVIDER = "local"


class LocalEmbeddingModel(Protocol):
    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text; called in a worker thread."""
        ...


class LocalEmbeddings:
    """The configured local embedding models by name, each behind a one-call lock."""

    def __init__(self, names: Sequence[str]) -> None:
        self._names = frozenset(names)
        self._model: LocalEmbeddingModel | None = None
        self._lock = asyncio.Lock()

    def serves(self, name: str) -> bool:
        return name in self._names

    def load(self) -> None:
        """At start-up: a configured local model whose plugin is missing stops start-up."""
        if not self._names:
            return
        found = {entry.name: entry for entry in entry_points(group=ENTRY_POINT_GROUP)}
        if PROVIDER not in found:
            raise ConfigError(
                "knowledge.local_embedding_models is set, but the local embeddings plugin is "
                "not installed (pip install plugins/inferia-embeddings-local)"
            )
        self._model = found[PROVIDER].load()()
        log.info("local embedding models: %s", ", ".join(sorted(self._names)))

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if self._model is None:
            self.load()
        model = self._model
        assert model is not None
        async with self._lock:
            return await asyncio.to_thread(model.embed, list(texts))
