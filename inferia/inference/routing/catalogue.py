"""Keeps the current routing table: rebuilt on model-change events, with a TTL backstop.

Requests read ``catalogue.table`` (a plain attribute); nothing here runs per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from inferia.config import Settings
from inferia.contracts import MODEL_CHANGES_CHANNEL, ModelDefinition, ModelDefinitionSource
from inferia.contracts.endpoints import (
    ENDPOINT_CHANGES_CHANNEL,
    LiveDeployment,
    LiveEndpointSource,
)
from inferia.inference.routing.table import RoutingTable, RoutingTableBuilder
from inferia.state import StateBackend, Subscription

log = logging.getLogger(__name__)


class ModelCatalogue:
    def __init__(
        self,
        settings: Settings,
        state: StateBackend,
        source: ModelDefinitionSource | None,
        live: LiveEndpointSource | None = None,
    ) -> None:
        self._settings = settings
        self._state = state
        self._source = source
        # The orchestration plane's ready model servers (inferia.contracts.endpoints).
        self._live = live
        self._live_deployments: list[LiveDeployment] = []
        self._live_subscription: Subscription | None = None
        self._builder = RoutingTableBuilder(settings.inference)
        self._defined: list[ModelDefinition] = []
        self.table = RoutingTable((), frozenset())
        self._subscription: Subscription | None = None
        self._refresher: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def start(self) -> None:
        await self.reload()
        if self._source is not None:
            self._subscription = await self._state.subscribe(
                MODEL_CHANGES_CHANNEL, lambda _: self._wake.set()
            )
        if self._live is not None:
            self._live_subscription = await self._state.subscribe(
                ENDPOINT_CHANGES_CHANNEL, lambda _: self._wake.set()
            )
        self._refresher = asyncio.create_task(self._refresh_loop())

    async def close(self) -> None:
        if self._live_subscription is not None:
            await self._live_subscription.close()
            self._live_subscription = None
        if self._subscription is not None:
            await self._subscription.close()
            self._subscription = None
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
            self._refresher = None

    async def reload(self) -> None:
        if self._source is not None:
            try:
                self._defined = await self._source.load()
            except Exception as exc:
                # Keep serving the last good snapshot; the next event or tick retries.
                log.warning("could not load model definitions: %s", exc)
        if self._live is not None:
            try:
                self._live_deployments = await self._live.load()
            except Exception as exc:
                log.warning("could not load the live endpoints: %s", exc)
        # Building resolves upstream host names (SSRF policy): off the event loop.
        self.table = await asyncio.to_thread(
            self._builder.build, self._settings.models, self._defined, self._live_deployments
        )

    async def _refresh_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._settings.inference.routing_refresh_s):
                    await self._wake.wait()
            self._wake.clear()
            await self.reload()

    def strict_host(self, host: str) -> bool:
        return host in self.table.strict_hosts
