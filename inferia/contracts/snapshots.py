"""Per-organisation snapshots of definitions, as the inference plane caches them.

Policies and guardrail settings are read on every request but change rarely: each is
loaded once per organisation (concurrent misses share one load), kept until a change
event on the state backend's pub/sub drops it, and at most ``ttl_s`` as a backstop
for a missed event. A load that raced an invalidation is returned but not cached.

The shared load runs in a task of its own: a request that goes away (its task
cancelled) stops waiting, but neither the load nor the other requests waiting on it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from inferia.state import EVERYTHING_CHANGED, StateBackend, Subscription

log = logging.getLogger(__name__)
T = TypeVar("T")
_MAX_ENTRIES = 100_000


class OrgSnapshots(Generic[T]):
    def __init__(
        self,
        load: Callable[[str], Awaitable[T]],
        state: StateBackend,
        channel: str,
        ttl_s: float,
    ) -> None:
        self._load = load
        self._state = state
        self._channel = channel
        # Without a shared backend this process cannot hear about changes made by
        # another one (the CLI): keep entries for a second only.
        self._ttl_s = ttl_s if state.shared else min(ttl_s, 1.0)
        self._entries: dict[str, tuple[float, T]] = {}
        self._loading: dict[str, asyncio.Future[T]] = {}
        self._generation = 0
        self._subscription: Subscription | None = None

    async def start(self) -> None:
        self._subscription = await self._state.subscribe(self._channel, self._on_change)

    async def close(self) -> None:
        if self._subscription is not None:
            await self._subscription.close()
            self._subscription = None

    def _on_change(self, message: bytes) -> None:
        """The payload is an organisation id, or ``EVERYTHING_CHANGED`` (published, or
        delivered after a gap in the subscription) for every organisation."""
        self._generation += 1
        if message == EVERYTHING_CHANGED:
            self._entries.clear()
        else:
            self._entries.pop(message.decode(), None)

    def cached(self, organization_id: str) -> T | None:
        """The snapshot if one is cached, fresh or not; never any I/O."""
        entry = self._entries.get(organization_id)
        return entry[1] if entry is not None else None

    async def get(self, organization_id: str) -> T:
        entry = self._entries.get(organization_id)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        pending = self._loading.get(organization_id)
        if pending is None:
            pending = asyncio.ensure_future(self._load_into_cache(organization_id))
            self._loading[organization_id] = pending
            pending.add_done_callback(lambda done: self._loaded(organization_id, done))
        return await asyncio.shield(pending)

    async def _load_into_cache(self, organization_id: str) -> T:
        generation = self._generation
        snapshot = await self._load(organization_id)
        if generation == self._generation:
            if len(self._entries) >= _MAX_ENTRIES:
                self._entries.clear()
            self._entries[organization_id] = (time.monotonic() + self._ttl_s, snapshot)
        return snapshot

    def _loaded(self, organization_id: str, done: asyncio.Future[T]) -> None:
        if self._loading.get(organization_id) is done:
            del self._loading[organization_id]
        if not done.cancelled() and done.exception() is not None:
            # Waiters get the error themselves; if all of them went away, say it here.
            log.debug("snapshot load failed: %s", type(done.exception()).__name__)
