"""The ``local`` compute adapter (entry point ``inferia.compute_adapters: local``)."""

from __future__ import annotations

from inferia.orchestration.adapters.protocol import AdapterSetup
from inferia_compute_local.adapter import LocalAdapter


def create(setup: AdapterSetup) -> LocalAdapter:
    return LocalAdapter(setup)


__all__ = ["LocalAdapter", "create"]
