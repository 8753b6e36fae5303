"""The two implementations of ``PrincipalResolver`` and the cache in front of both.

- ``RemotePrincipalResolver``: asks a filtration plane in another process, over
  ``POST /internal/principals/resolve`` with the internal service credential.
- In process, the API key store itself is the resolver (a direct call).
- ``CachedPrincipalResolver`` wraps either, so a repeated credential costs no database
  or network call, and listens for key changes to drop stale entries at once.
"""

from __future__ import annotations

import asyncio
import logging

import msgspec

from inferia.contracts.internal_client import InternalClient
from inferia.contracts.principal_cache import PrincipalCache
from inferia.contracts.principals import (
    API_KEY_CHANGES_CHANNEL,
    RESOLVE_PATH,
    Principal,
    PrincipalResolver,
    ResolveRequest,
)
from inferia.state import EVERYTHING_CHANGED, StateBackend, Subscription

log = logging.getLogger(__name__)


class RemotePrincipalResolver:
    def __init__(self, client: InternalClient) -> None:
        self._client = client
        self._decoder = msgspec.json.Decoder(Principal)

    async def resolve(self, credential: str) -> Principal | None:
        body = msgspec.json.encode(ResolveRequest(credential=credential))
        # 404: the filtration plane knows no such key.
        return await self._client.call(
            "POST", RESOLVE_PATH, self._decoder, body=body, what="a credential check"
        )


class CachedPrincipalResolver:
    """Caches another resolver's answers; invalidated by key-change announcements."""

    def __init__(
        self, source: PrincipalResolver, state: StateBackend, cache: PrincipalCache
    ) -> None:
        self.source = source
        self.cache = cache
        self._state = state
        self._subscription: Subscription | None = None
        self._lookups: dict[bytes, asyncio.Future[Principal | None]] = {}

    async def start(self) -> None:
        self._subscription = await self._state.subscribe(API_KEY_CHANGES_CHANNEL, self._on_change)

    async def close(self) -> None:
        if self._subscription is not None:
            await self._subscription.close()
            self._subscription = None

    def _on_change(self, message: bytes) -> None:
        # Lookups that started before the change may return what it changed: requests
        # arriving from now on must not join them.
        self._lookups.clear()
        if message == EVERYTHING_CHANGED:
            self.cache.clear()
        else:
            self.cache.invalidate_key(message.decode())

    async def resolve(self, credential: str) -> Principal | None:
        digest = self.cache.digest(credential)
        hit, principal, refresh = self.cache.get(digest)
        if hit:
            if refresh and digest not in self._lookups:
                # Refresh ahead, not awaited: this request is answered from the cache.
                self._start_lookup(digest, credential)
            return principal
        # Single flight: when a key's entry expires, every request in flight misses at
        # once; one lookup answers them all instead of one database query each.
        pending = self._lookups.get(digest) or self._start_lookup(digest, credential)
        return await asyncio.shield(pending)

    def _start_lookup(self, digest: bytes, credential: str) -> asyncio.Future[Principal | None]:
        pending = asyncio.ensure_future(self._lookup(digest, credential))
        self._lookups[digest] = pending
        pending.add_done_callback(lambda done: self._forget(digest, done))
        return pending

    def _forget(self, digest: bytes, done: asyncio.Future[Principal | None]) -> None:
        if self._lookups.get(digest) is done:
            del self._lookups[digest]
        if not done.cancelled() and done.exception() is not None:
            # Waiters get the error themselves; a refresh ahead has none: say it here.
            log.warning("API key lookup failed: %s", type(done.exception()).__name__)

    async def _lookup(self, digest: bytes, credential: str) -> Principal | None:
        generation = self.cache.generation
        principal = await self.source.resolve(credential)
        if generation == self.cache.generation:
            self.cache.put(digest, principal)
        return principal
