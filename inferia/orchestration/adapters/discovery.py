"""Finds the installed compute adapters through the ``inferia.compute_adapters`` group.

Loaded lazily, by name, the first time a pool uses one: a process that never sees a
``kubernetes`` pool never imports its client library.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import entry_points

from inferia.core.errors import ValidationError
from inferia.orchestration.adapters.protocol import AdapterSetup, ComputeAdapter

ENTRY_POINT_GROUP = "inferia.compute_adapters"
AdapterFactory = Callable[[AdapterSetup], ComputeAdapter]
log = logging.getLogger(__name__)


def installed_adapters() -> dict[str, Callable[[], AdapterFactory]]:
    """Every installed adapter's loader, by entry-point name."""
    return {entry.name: entry.load for entry in entry_points(group=ENTRY_POINT_GROUP)}


class AdapterRegistry:
    """The adapters of this process: each built once, on first use, and closed on stop."""

    def __init__(self, setup: AdapterSetup) -> None:
        self._setup = setup
        self._loaders = installed_adapters()
        self._built: dict[str, ComputeAdapter] = {}

    def names(self) -> list[str]:
        return sorted(self._loaders)

    def get(self, name: str) -> ComputeAdapter:
        adapter = self._built.get(name)
        if adapter is not None:
            return adapter
        loader = self._loaders.get(name)
        if loader is None:
            installed = ", ".join(self.names()) or "none"
            raise ValidationError(
                f"no compute adapter named '{name}' is installed (installed: {installed})",
                param="provider",
            )
        adapter = loader()(self._setup)
        self._built[name] = adapter
        return adapter

    async def close(self) -> None:
        """Stop what every adapter of this process runs; they are rebuilt when used again."""
        built, self._built = self._built, {}
        for name, adapter in built.items():
            try:
                await adapter.close()
            except Exception:
                log.exception("compute adapter %s did not close cleanly", name)
