"""An in-process cache of resolved principals, invalidated over pub/sub.

The hot path must not pay a database or network call per request, yet a revoked key
must stop working everywhere within a second. So: cache by credential digest (never
the credential itself), drop entries when their key id is announced on
``API_KEY_CHANGES_CHANNEL``, and bound every entry's life with a TTL as a backstop
for a missed message. Expiry is checked on every hit, so an expiring key needs no
message at all.

A key in use is refreshed ahead: once an entry is half its TTL old, a hit still answers
from it but says a refresh is due (the resolver looks the key up in the background), so
a busy key never makes a request wait for the database, and what the cache answers is
never older than the TTL.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict

from inferia.contracts.principals import Principal
from inferia.state import StateBackend


class PrincipalCache:
    def __init__(
        self, *, ttl_s: float = 30.0, negative_ttl_s: float = 2.0, max_entries: int = 100_000
    ) -> None:
        self._ttl_s = ttl_s
        self._negative_ttl_s = negative_ttl_s
        self._max_entries = max_entries
        # digest -> (principal or None for "known invalid", refresh from, valid until),
        # both monotonic times.
        self._entries: OrderedDict[bytes, tuple[Principal | None, float, float]] = OrderedDict()
        self._digests_by_key: dict[str, set[bytes]] = {}
        # Bumped by every invalidation: a lookup that started before one must not cache
        # what it fetched, or a revoked key could be re-cached from a stale read.
        self.generation = 0

    @staticmethod
    def digest(credential: str) -> bytes:
        # Unpeppered: this only names cache slots in this process' memory.
        return hashlib.blake2b(credential.encode(), digest_size=20).digest()

    def get(self, digest: bytes) -> tuple[bool, Principal | None, bool]:
        """(hit, principal, refresh due). A hit with None means the credential is known
        to be invalid."""
        entry = self._entries.get(digest)
        if entry is None:
            return False, None, False
        principal, refresh_from, valid_until = entry
        now = time.monotonic()
        if now >= valid_until:
            self._drop(digest)
            return False, None, False
        if (
            principal is not None
            and principal.expires_at is not None
            and time.time() >= principal.expires_at
        ):
            return True, None, False
        return True, principal, now >= refresh_from

    def put(self, digest: bytes, principal: Principal | None) -> None:
        now = time.monotonic()
        entry: tuple[Principal | None, float, float]
        if principal is not None:
            entry = (principal, now + self._ttl_s / 2, now + self._ttl_s)
        else:  # "known invalid" is not refreshed ahead: it simply expires
            valid_until = now + self._negative_ttl_s
            entry = (None, valid_until, valid_until)
        self._entries[digest] = entry
        self._entries.move_to_end(digest)
        if principal is not None:
            self._digests_by_key.setdefault(principal.key_id, set()).add(digest)
        while len(self._entries) > self._max_entries:
            oldest, _ = next(iter(self._entries.items()))
            self._drop(oldest)

    def invalidate_key(self, key_id: str) -> None:
        self.generation += 1
        for digest in self._digests_by_key.pop(key_id, ()):
            self._entries.pop(digest, None)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()
        self._digests_by_key.clear()

    def _drop(self, digest: bytes) -> None:
        entry = self._entries.pop(digest, None)
        if entry is not None and entry[0] is not None:
            digests = self._digests_by_key.get(entry[0].key_id)
            if digests is not None:
                digests.discard(digest)
                if not digests:
                    del self._digests_by_key[entry[0].key_id]

    def __len__(self) -> int:
        return len(self._entries)


def principal_cache_for(state: StateBackend) -> PrincipalCache:
    """A shared state backend carries invalidations between processes, so entries may
    live long. An in-memory one cannot hear about changes made by another process (the
    CLI revoking a key), so entries live half a second: a revoked key stops working within
    half a second, at the cost of up to four lookups per busy key per second (in the
    background: see the module docstring)."""
    return PrincipalCache(ttl_s=30.0 if state.shared else 0.5)
