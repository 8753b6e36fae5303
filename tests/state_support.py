"""What tests ask of a state backend that Inferia itself never does: how many stream
entries are pending or stored, deleting keys to clean up after a test, and the TTL
cache the backends once carried (nothing in Inferia used it).

Each works on either backend, through its internals (the memory backend's streams, the
Redis backend's client); Redis failures raise StateError as the backends' own do.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable

from inferia.state import MemoryStateBackend, RedisStateBackend, StateBackend
from inferia.state.redis_errors import translate_errors


async def pending_count(state: StateBackend, stream: str, group: str) -> int:
    """Entries of ``group`` read but not acknowledged; StateError without the group."""
    if isinstance(state, MemoryStateBackend):
        return len(state._streams._group(stream, group)[1].pending)
    assert isinstance(state, RedisStateBackend)
    with translate_errors("XPENDING"):
        summary = await state._redis.xpending(stream, group)
    return int(summary["pending"])


async def stream_length(state: StateBackend, stream: str) -> int:
    if isinstance(state, MemoryStateBackend):
        entry = state._streams._streams.get(stream)
        return 0 if entry is None else len(entry.payloads)
    assert isinstance(state, RedisStateBackend)
    with translate_errors("XLEN"):
        return int(await state._redis.xlen(stream))


async def delete_keys(state: StateBackend, *keys: str) -> None:
    """Drop keys (streams included) a test left in Redis; the memory backend dies
    with the test."""
    if isinstance(state, RedisStateBackend) and keys:
        with translate_errors("DEL"):
            await state._redis.delete(*keys)


class TTLCache:
    """Bytes by key with a per-entry TTL and at most ``max_entries`` entries.

    Expired entries are dropped when read; the size bound (oldest write evicted
    first) keeps entries nobody reads again from growing memory without limit.
    """

    def __init__(self, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic):
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> bytes | None:
        item = self._entries.get(key)
        if item is None:
            return None
        expires_at, value = item
        if expires_at <= self._clock():
            del self._entries[key]
            return None
        return value

    def set(self, key: str, value: bytes, ttl_s: float) -> None:
        if ttl_s <= 0:
            self._entries.pop(key, None)
            return
        self._entries[key] = (self._clock() + ttl_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def delete(self, *keys: str) -> None:
        for key in keys:
            self._entries.pop(key, None)


class StateCache:
    """A TTL cache on a state backend: Redis keys with an expiry, or a bounded
    in-process ``TTLCache`` beside the memory backend."""

    def __init__(self, state: StateBackend, *, max_entries: int = 10_000) -> None:
        self._redis = state if isinstance(state, RedisStateBackend) else None
        self._local = TTLCache(max_entries)

    async def get(self, key: str) -> bytes | None:
        if self._redis is None:
            return self._local.get(key)
        with translate_errors("GET"):
            value = await self._redis._redis.get(key)
        # Always bytes (decode_responses is off); the check narrows redis-py's type.
        return value.encode() if isinstance(value, str) else value

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        if self._redis is None:
            self._local.set(key, value, ttl_s)
            return
        with translate_errors("SET"):
            if ttl_s <= 0:
                await self._redis._redis.delete(key)
            else:
                await self._redis._redis.set(key, value, px=max(1, math.ceil(ttl_s * 1000)))

    async def delete(self, *keys: str) -> None:
        if self._redis is None:
            self._local.delete(*keys)
        elif keys:
            with translate_errors("DEL"):
                await self._redis._redis.delete(*keys)
