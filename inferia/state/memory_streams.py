"""In-process streams with consumer groups: Redis Streams semantics, one process.

Each group keeps a pending entry list (who holds a message, since when, how
many deliveries), so work read but never acknowledged can be claimed by another
consumer exactly as with XAUTOCLAIM. Nothing survives a restart: durability
needs the Redis backend.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from inferia.core.errors import StateError
from inferia.state.base import StreamMessage

_StreamId = tuple[int, int]


@dataclass(slots=True)
class _Pending:
    consumer: str
    delivered_at: float
    deliveries: int


@dataclass(slots=True)
class _Group:
    last_delivered: _StreamId = (0, 0)
    # Insertion order is id order: entries are delivered in id order, and
    # claiming updates an entry in place.
    pending: dict[str, _Pending] = field(default_factory=dict)


@dataclass(slots=True)
class _Stream:
    ids: list[_StreamId] = field(default_factory=list)
    payloads: dict[str, bytes] = field(default_factory=dict)
    last_id: _StreamId = (0, 0)
    groups: dict[str, _Group] = field(default_factory=dict)
    # Set and replaced by an add when readers wait (they hold the one that gets set).
    added: asyncio.Event = field(default_factory=asyncio.Event)
    waiting: int = 0


class LocalStreams:
    def __init__(
        self,
        wall_clock: Callable[[], float] = time.time,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._wall_clock = wall_clock  # message ids, like Redis
        self._clock = clock  # idle times, immune to wall-clock jumps
        self._streams: dict[str, _Stream] = {}
        self._closed = False

    def add(self, stream: str, payload: bytes, maxlen: int | None) -> str:
        if maxlen is not None and maxlen < 0:
            raise ValueError("maxlen must be >= 0")
        entry = self._stream(stream)
        ms = int(self._wall_clock() * 1000)
        last_ms, last_seq = entry.last_id
        new_id = (ms, 0) if ms > last_ms else (last_ms, last_seq + 1)
        entry.last_id = new_id
        entry.ids.append(new_id)
        message_id = _format(new_id)
        entry.payloads[message_id] = payload
        if maxlen is not None and len(entry.ids) > maxlen:
            excess = len(entry.ids) - maxlen
            for old in entry.ids[:excess]:
                entry.payloads.pop(_format(old), None)
            del entry.ids[:excess]
        if entry.waiting:
            entry.added.set()
            entry.added = asyncio.Event()
        return message_id

    def ensure_group(self, stream: str, group: str) -> None:
        groups = self._stream(stream).groups
        if group not in groups:
            groups[group] = _Group()

    def _stream(self, name: str) -> _Stream:
        # Not setdefault(): that would build a _Stream (and its asyncio.Event) per call.
        entry = self._streams.get(name)
        if entry is None:
            entry = self._streams[name] = _Stream()
        return entry

    async def read(
        self, stream: str, group: str, consumer: str, count: int, block_ms: int
    ) -> list[StreamMessage]:
        if count < 1:
            raise ValueError("count must be >= 1")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(block_ms, 0) / 1000
        while True:
            entry, state = self._group(stream, group)
            batch = self._take_new(entry, state, consumer, count)
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._closed:
                return batch
            entry.waiting += 1
            try:
                await asyncio.wait_for(entry.added.wait(), remaining)
            except TimeoutError:
                return []
            finally:
                entry.waiting -= 1

    def ack(self, stream: str, group: str, ids: Sequence[str]) -> int:
        entry = self._streams.get(stream)
        state = entry.groups.get(group) if entry is not None else None
        if state is None:
            return 0
        return sum(1 for message_id in ids if state.pending.pop(message_id, None) is not None)

    def delete(self, stream: str, ids: Sequence[str]) -> None:
        """XDEL: remove entries (pending or not, like Redis)."""
        entry = self._streams.get(stream)
        if entry is None:
            return
        for message_id in ids:
            entry.payloads.pop(message_id, None)
        # Consumers delete what they acknowledged, which is the oldest entries: drop
        # the leading ids whose payload is gone (others wait until they lead).
        ids_list = entry.ids
        gone = 0
        while gone < len(ids_list) and _format(ids_list[gone]) not in entry.payloads:
            gone += 1
        if gone:
            del ids_list[:gone]

    def claim_stale(
        self, stream: str, group: str, consumer: str, min_idle_ms: int, count: int
    ) -> list[StreamMessage]:
        if count < 1:
            raise ValueError("count must be >= 1")
        entry, state = self._group(stream, group)
        now = self._clock()
        claimed: list[StreamMessage] = []
        for message_id, pending in list(state.pending.items()):
            if len(claimed) >= count:
                break
            if (now - pending.delivered_at) * 1000 < min_idle_ms:
                continue
            payload = entry.payloads.get(message_id)
            if payload is None:  # trimmed away while pending: Redis 7 drops it too
                del state.pending[message_id]
                continue
            pending.consumer = consumer
            pending.delivered_at = now
            pending.deliveries += 1
            claimed.append(StreamMessage(message_id, payload, pending.deliveries))
        return claimed

    def close(self) -> None:
        """Release blocked readers (they return nothing)."""
        self._closed = True
        for entry in self._streams.values():
            entry.added.set()

    def _group(self, stream: str, group: str) -> tuple[_Stream, _Group]:
        entry = self._streams.get(stream)
        state = entry.groups.get(group) if entry is not None else None
        if entry is None or state is None:
            raise StateError(f"NOGROUP: no group {group!r} on stream {stream!r}")
        return entry, state

    def _take_new(
        self, entry: _Stream, state: _Group, consumer: str, count: int
    ) -> list[StreamMessage]:
        start = bisect.bisect_right(entry.ids, state.last_delivered)
        taken = entry.ids[start : start + count]
        if not taken:
            return []
        now = self._clock()
        state.last_delivered = taken[-1]
        batch: list[StreamMessage] = []
        for raw_id in taken:
            message_id = _format(raw_id)
            payload = entry.payloads.get(message_id)
            if payload is None:  # deleted (XDEL) before anyone read it
                continue
            state.pending[message_id] = _Pending(consumer, now, 1)
            batch.append(StreamMessage(message_id, payload, 1))
        return batch


def _format(stream_id: _StreamId) -> str:
    return f"{stream_id[0]}-{stream_id[1]}"
