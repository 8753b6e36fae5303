"""One loop for every consumer of a stream: read a batch, write it, then acknowledge.

Each round takes first any batch a dead consumer left unacknowledged for
``claim_idle_ms``, else new entries (waiting up to ``block_ms`` for one), hands the batch
to ``write`` and acknowledges it only after ``write`` returns, deleting the entries
(a stream read by one group needs them no longer). A crash before ``write`` returns
loses nothing: the entries stay pending and another consumer claims them. A crash
between ``write`` and the acknowledgement duplicates nothing as long as ``write`` is
idempotent (the consumers insert with ``ON CONFLICT (id) DO NOTHING``).

Closing stops the loop at once on a shared (Redis) backend: what is left waits in
Redis for the next consumer. On the in-process backend (embedded mode) what is left
dies with the process, so ``close`` first lets the loop write everything already in the
stream, for at most ``drain_s`` (``server.drain_timeout_s``). A kill -9 loses what was
not written yet: at most one ``flush_interval_ms`` of records plus the batch in flight.

The configured consumers: the usage records (``inferia.filtration.usage.consumer``) and
the guardrail findings (``inferia.filtration.guardrail_policies.consumer``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Sequence

from inferia.core.errors import InferiaError
from inferia.core.tasks import cancel_and_wait
from inferia.state.base import StateBackend, StreamMessage

log = logging.getLogger(__name__)

WriteBatch = Callable[[Sequence[StreamMessage]], Awaitable[None]]
_RETRY_PAUSE_S = 1.0


class StreamConsumer:
    """Drains ``group`` of ``stream`` into ``write`` in a background task."""

    def __init__(
        self,
        state: StateBackend,
        write: WriteBatch,
        *,
        stream: str,
        group: str,
        label: str,
        name: str | None = None,
        batch_size: int = 500,
        block_ms: int = 500,
        fill_ms: int = 0,
        claim_idle_ms: int = 30_000,
        drain_s: float = 0.0,
    ) -> None:
        self._state = state
        self._write = write
        self._stream = stream
        self._group = group
        # Names the consumer in log lines and its task.
        self._label = label
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self._batch_size = batch_size
        self._block_ms = block_ms
        # > 0: a partial batch waits this long for more before it is written.
        self._fill_ms = fill_ms
        self._claim_idle_ms = claim_idle_ms
        self._drain_s = drain_s
        self._draining = False  # write what is left, then end (close, in-process stream)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        self._stopping = self._draining = False
        self._task = asyncio.create_task(self._run(), name=self._label)

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        if self._drain_s > 0 and not self._state.shared:
            # The loop ends by itself once a round finds the stream empty.
            self._draining = True
            done, _ = await asyncio.wait({task}, timeout=self._drain_s)
            if not done:
                log.error(
                    "%s: stopped after %.0f s with entries unwritten", self._label, self._drain_s
                )
        # Unacknowledged entries stay pending: the next consumer claims them. The flag
        # ends the loop even when a cancellation is lost (see cancel_and_wait).
        self._stopping = True
        await cancel_and_wait(task)

    async def _run(self) -> None:
        ready = False
        while not self._stopping:
            try:
                if not ready:
                    await self._state.stream_ensure_group(self._stream, self._group)
                    ready = True
                if not await self.run_once(0 if self._draining else None) and self._draining:
                    return
            except InferiaError as exc:
                # Database or state backend down: the entries wait in the stream. The
                # group is made sure of again: a Redis restarted without persistence
                # comes back without it, and reads would fail until it exists.
                ready = False
                if self._stopping:
                    return
                log.warning("%s: %s; retrying", self._label, exc.message)
                await asyncio.sleep(_RETRY_PAUSE_S)

    async def run_once(self, block_ms: int | None = None) -> int:
        """Write and acknowledge one batch; returns how many entries it held."""
        messages = await self.read(block_ms)
        if messages:
            await self._write(messages)
            await self._state.stream_ack(
                self._stream, self._group, [m.id for m in messages], delete=True
            )
        return len(messages)

    async def read(self, block_ms: int | None = None) -> list[StreamMessage]:
        """The next batch: a dead consumer's stale one, else new entries."""
        batch = self._batch_size
        claimed = await self._state.stream_claim_stale(
            self._stream, self._group, self.name, self._claim_idle_ms, batch
        )
        if claimed:
            return claimed
        wait_ms = self._block_ms if block_ms is None else block_ms
        messages = await self._state.stream_read(
            self._stream, self._group, self.name, batch, wait_ms
        )
        if self._fill_ms and messages and len(messages) < batch:
            # A read returns as soon as one entry is there: wait for more, then take
            # what came (without blocking). Writing every few entries made one SQLite
            # transaction per handful of requests under load, each taking the write
            # lock and a commit, with its CPU on the event loop.
            await asyncio.sleep(self._fill_ms / 1000)
            messages += await self._state.stream_read(
                self._stream, self._group, self.name, batch - len(messages), 0
            )
        return messages
