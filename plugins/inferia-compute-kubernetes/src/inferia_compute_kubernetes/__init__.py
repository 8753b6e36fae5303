"""The ``kubernetes`` compute adapter (entry point ``inferia.compute_adapters: kubernetes``)."""

from __future__ import annotations

from inferia.orchestration.adapters.protocol import AdapterSetup
from inferia_compute_kubernetes.adapter import KubernetesAdapter


def create(setup: AdapterSetup) -> KubernetesAdapter:
    return KubernetesAdapter(setup)


__all__ = ["KubernetesAdapter", "create"]
