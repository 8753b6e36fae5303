"""The embedded state backend: everything in this process, nothing shared.

Right for a single process (the SQLite default). Atomicity comes from the
event loop: every mutation here completes without awaiting.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from inferia.core.errors import StateError
from inferia.state.base import (
    AtomicScript,
    MessageHandler,
    ScriptArg,
    ScriptCall,
    StateOp,
    StreamMessage,
    Subscription,
)
from inferia.state.local_store import LocalStore
from inferia.state.memory_pubsub import LocalPubSub
from inferia.state.memory_streams import LocalStreams


class MemoryStateBackend:
    def __init__(self) -> None:
        self._store = LocalStore()
        self._pubsub = LocalPubSub()
        self._streams = LocalStreams()

    @property
    def shared(self) -> bool:
        return False

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._streams.close()
        await self._pubsub.close()

    async def ping(self) -> bool:
        return True

    # Atomic counters -------------------------------------------------------
    async def run_script(
        self, script: AtomicScript, keys: Sequence[str], args: Sequence[ScriptArg]
    ) -> Any:
        # Wall-clock seconds, like Redis TIME, so scripts see the same epoch.
        return script.local(self._store, keys, args, time.time())

    async def incr(self, key: str, amount: int = 1, ttl_s: float | None = None) -> int:
        created = not self._store.exists(key)
        value = self._store.incr(key, amount)
        if created and ttl_s is not None:
            self._store.expire(key, ttl_s)
        return value

    async def get_int(self, key: str) -> int:
        value = self._store.get(key)
        if value is None:
            return 0
        if isinstance(value, int):
            return value
        try:
            return int(value)
        except ValueError as exc:
            raise StateError(f"value at {key!r} is not an integer") from exc

    # Batches -------------------------------------------------------------
    async def run_batch(self, ops: Sequence[StateOp]) -> list[Any]:
        # Through the single-op methods, so each op behaves exactly as when run alone.
        results: list[Any] = []
        for op in ops:
            try:
                if isinstance(op, ScriptCall):
                    results.append(await self.run_script(op.script, op.keys, op.args))
                else:
                    results.append(await self.stream_add(op.stream, op.payload, op.maxlen))
            except StateError as exc:
                results.append(exc)
        return results

    # Pub/sub ---------------------------------------------------------------
    async def publish(self, channel: str, message: bytes) -> None:
        self._pubsub.publish(channel, message)

    async def subscribe(self, channel: str, handler: MessageHandler) -> Subscription:
        return self._pubsub.subscribe(channel, handler)

    # Streams ---------------------------------------------------------------
    async def stream_add(self, stream: str, payload: bytes, maxlen: int | None = None) -> str:
        return self._streams.add(stream, payload, maxlen)

    async def stream_ensure_group(self, stream: str, group: str) -> None:
        self._streams.ensure_group(stream, group)

    async def stream_read(
        self, stream: str, group: str, consumer: str, count: int, block_ms: int = 0
    ) -> list[StreamMessage]:
        return await self._streams.read(stream, group, consumer, count, block_ms)

    async def stream_ack(
        self, stream: str, group: str, ids: Sequence[str], *, delete: bool = False
    ) -> int:
        acked = self._streams.ack(stream, group, ids)
        if delete:
            self._streams.delete(stream, ids)
        return acked

    async def stream_claim_stale(
        self, stream: str, group: str, consumer: str, min_idle_ms: int, count: int
    ) -> list[StreamMessage]:
        return self._streams.claim_stale(stream, group, consumer, min_idle_ms, count)
