"""A small typed keyspace with expiry: what memory-backend scripts operate on.

It mirrors the Redis commands that Lua scripts use (GET/SET/INCRBY, hashes,
PEXPIRE) closely enough that a script's Python twin reads like its Lua. It is
synchronous on purpose: a script that never awaits is atomic on the event loop.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from inferia.core.errors import StateError

Scalar = bytes | str | int | float
Value = Scalar | dict[str, Scalar]


@dataclass(slots=True)
class _Entry:
    value: Value
    expires_at: float | None


class LocalStore:
    """Keys with optional expiry; expired keys vanish lazily and in amortised sweeps."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._data: dict[str, _Entry] = {}
        # (deadline, key) pairs; stale pairs (key gone or deadline moved) are skipped.
        self._deadlines: list[tuple[float, str]] = []

    def __len__(self) -> int:
        self._purge()
        return len(self._data)

    # Plain values -----------------------------------------------------------
    def get(self, key: str) -> Scalar | None:
        entry = self._live(key)
        if entry is None:
            return None
        if isinstance(entry.value, dict):
            raise _wrong_type(key)
        return entry.value

    def set(self, key: str, value: Scalar, ttl_s: float | None = None) -> None:
        self._purge()
        self._data[key] = _Entry(value, None)
        if ttl_s is not None:
            self.expire(key, ttl_s)

    def exists(self, key: str) -> bool:
        return self._live(key) is not None

    def delete(self, *keys: str) -> int:
        removed = 0
        for key in keys:
            if self._live(key) is not None:
                del self._data[key]
                removed += 1
        return removed

    def incr(self, key: str, amount: int = 1) -> int:
        """INCRBY: a missing key counts from 0 and keeps no expiry."""
        entry = self._live(key)
        if entry is None:
            self.set(key, amount)
            return amount
        current = entry.value
        if isinstance(current, dict | float):
            raise _wrong_type(key)
        try:
            value = int(current) + amount
        except ValueError as exc:
            raise StateError(f"value at {key!r} is not an integer") from exc
        entry.value = value
        return value

    # Expiry ---------------------------------------------------------------
    def expire(self, key: str, ttl_s: float) -> bool:
        entry = self._live(key)
        if entry is None:
            return False
        if ttl_s <= 0:
            del self._data[key]
            return True
        entry.expires_at = self._clock() + ttl_s
        heapq.heappush(self._deadlines, (entry.expires_at, key))
        self._compact()
        return True

    def ttl(self, key: str) -> float | None:
        """Seconds left, or None when the key is missing or never expires."""
        entry = self._live(key)
        if entry is None or entry.expires_at is None:
            return None
        return max(0.0, entry.expires_at - self._clock())

    # Hashes ---------------------------------------------------------------
    def hget(self, key: str, field: str) -> Scalar | None:
        return self._hash(key).get(field)

    def hmget(self, key: str, *fields: str) -> list[Scalar | None]:
        fields_map = self._hash(key)
        return [fields_map.get(f) for f in fields]

    def hgetall(self, key: str) -> dict[str, Scalar]:
        return dict(self._hash(key))

    def hset(self, key: str, mapping: Mapping[str, Scalar]) -> int:
        """Set fields (creating the hash); returns how many fields are new."""
        entry = self._live(key)
        if entry is None:
            self._purge()
            entry = self._data[key] = _Entry({}, None)
        if not isinstance(entry.value, dict):
            raise _wrong_type(key)
        new = sum(1 for f in mapping if f not in entry.value)
        entry.value.update(mapping)
        return new

    # Internals ------------------------------------------------------------
    def _hash(self, key: str) -> dict[str, Scalar]:
        entry = self._live(key)
        if entry is None:
            return {}
        if not isinstance(entry.value, dict):
            raise _wrong_type(key)
        return entry.value

    def _live(self, key: str) -> _Entry | None:
        entry = self._data.get(key)
        if entry is not None and entry.expires_at is not None and entry.expires_at <= self._clock():
            del self._data[key]
            return None
        return entry

    def _purge(self) -> None:
        """Drop keys whose deadline passed: keeps unread expired keys from piling up."""
        now = self._clock()
        heap = self._deadlines
        while heap and heap[0][0] <= now:
            deadline, key = heapq.heappop(heap)
            entry = self._data.get(key)
            if entry is not None and entry.expires_at == deadline:
                del self._data[key]

    def _compact(self) -> None:
        # Re-arming a TTL on every write leaves stale heap pairs; rebuild when they
        # outnumber live keys so the heap stays O(keys), not O(writes).
        if len(self._deadlines) > 2 * len(self._data) + 64:
            self._deadlines = [
                (e.expires_at, k) for k, e in self._data.items() if e.expires_at is not None
            ]
            heapq.heapify(self._deadlines)


def _wrong_type(key: str) -> StateError:
    return StateError(f"WRONGTYPE: operation against {key!r} holding the wrong kind of value")
