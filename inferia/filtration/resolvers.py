"""The two implementations of ``PrincipalResolver`` and the cache in front of both.

- ``RemotePrincipalResolver``: asks a filtration plane in another process, over
  ``POST /internal/principals/resolve`` with the internal service credential.
- In process, the API key store itself is the resolver (a direct call).
- ``CachedPrincipalResolver`` wraps either, so a repeated credential costs no database
  or network call, and listens for key changes to drop stale entries at once.
"""

from __future__ import annotations

import logging

import msgspec

from inferia.filtration.internal_client import InternalClient
from inferia.filtration.ports import (
    API_KEY_CHANGES_CHANNEL,
    RESOLVE_PATH,
    Principal,
    PrincipalResolver,
    ResolveRequest,
)
from inferia.filtration.principal_cache import PrincipalCache
from inferia.state import StateBackend, Subscription

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

    async def start(self) -> None:
        self._subscription = await self._state.subscribe(API_KEY_CHANGES_CHANNEL, self._on_change)

    async def close(self) -> None:
        if self._subscription is not None:
            await self._subscription.close()
            self._subscription = None

    def _on_change(self, message: bytes) -> None:
        key_id = message.decode()
        if key_id == "*":
            self.cache.clear()
        else:
            self.cache.invalidate_key(key_id)

    async def resolve(self, credential: str) -> Principal | None:
        digest = self.cache.digest(credential)
        hit, principal = self.cache.get(digest)
        if hit:
            return principal
        generation = self.cache.generation
        principal = await self.source.resolve(credential)
        if generation == self.cache.generation:
            self.cache.put(digest, principal)
        return principal
