"""The shared infrastructure of one process, built once by the app factory.

Planes receive a ``Runtime`` and register start/stop hooks on it; nothing here is a
module global, so tests can build several apps in one interpreter.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import aiohttp
from aiohttp.abc import AbstractResolver

from inferia.config import Settings
from inferia.core.client_address import ClientAddresses
from inferia.core.metrics import Metrics
from inferia.core.request_id import RequestIds
from inferia.state import StateBackend

if TYPE_CHECKING:  # an inference-only process imports no database code
    from inferia.db import Database

log = logging.getLogger(__name__)
_STOP_HOOK_TIMEOUT_S = 10.0
Hook = Callable[[], Awaitable[None]]


@dataclass
class Runtime:
    settings: Settings
    state: StateBackend
    # None when no plane in this process owns tables (an inference-only process).
    database: Database | None
    # Set by a plane before start-up (the inference plane's SSRF-guarded resolver).
    http_resolver: AbstractResolver | None = None
    # A server process (not a test building apps) hides what start-up built from the
    # cyclic garbage collector: see ``lifespan``.
    freeze_heap_after_start: bool = False
    # What GET /metrics exports; planes register their counters.
    metrics: Metrics = field(default_factory=Metrics)
    # Who a request's client is, behind server.trusted_proxies (the process' HTTP entry
    # resolves it once for every route).
    client_addresses: ClientAddresses = field(init=False)
    # The request ids of every route, Litestar's and the /v1 endpoints'.
    request_ids: RequestIds = field(default_factory=RequestIds)
    # What GET /ready checks besides the state backend and the database: the other
    # planes this process depends on (name -> "does it answer?").
    ready_checks: dict[str, Callable[[], Awaitable[bool]]] = field(default_factory=dict)
    _http: aiohttp.ClientSession | None = None
    _on_start: list[Hook] = field(default_factory=list)
    _on_stop: list[Hook] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.client_addresses = ClientAddresses(self.settings.server.trusted_proxies)

    def on_start(self, hook: Hook) -> None:
        self._on_start.append(hook)

    def on_stop(self, hook: Hook) -> None:
        self._on_stop.append(hook)

    def add_ready_check(self, name: str, check: Callable[[], Awaitable[bool]]) -> None:
        self.ready_checks[name] = check

    @property
    def http(self) -> aiohttp.ClientSession:
        """The process' one pooled HTTP client (upstreams and other planes)."""
        if self._http is None:
            raise RuntimeError("the HTTP client exists only while the app is running")
        return self._http

    @asynccontextmanager
    async def lifespan(self, _app: object) -> AsyncIterator[None]:
        await self.state.start()
        if self.database is not None:
            await self.database.start()
        self._http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=0, limit_per_host=0, ttl_dns_cache=300, resolver=self.http_resolver
            ),
            auto_decompress=False,
            # A gateway must not carry cookies from one upstream reply into later requests.
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        try:
            for hook in self._on_start:
                await hook()
            if self.freeze_heap_after_start:
                # What start-up built (modules, app, snapshots) lives as long as the
                # process; frozen, full collections stop walking it: they cost ~70 ms
                # each, ~14 µs per request, before.
                gc.collect()
                gc.freeze()
            yield
        finally:
            # Stop hooks are idempotent: they run even if a later start hook failed.
            # Each gets a bounded time: shutdown must finish even if one of them hangs.
            # (Consumers that drain an in-memory queue take up to drain_timeout_s.)
            limit = max(_STOP_HOOK_TIMEOUT_S, self.settings.server.drain_timeout_s + 1)
            for stop in reversed(self._on_stop):
                try:
                    async with asyncio.timeout(limit):
                        await stop()
                except TimeoutError:
                    log.error("stop hook %s did not finish in %.0f s", stop, limit)
                except Exception:
                    log.exception("error while stopping")
            await self._http.close()
            self._http = None
            if self.database is not None:
                await self.database.close()
            await self.state.close()
