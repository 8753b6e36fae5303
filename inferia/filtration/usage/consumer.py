"""The usage consumer: drains the usage stream into the database in batches.

Read a batch (first any batch a dead consumer left unacknowledged, then new events,
waiting up to ``flush_interval_ms`` for a partial batch to fill), insert every row of it
in one transaction (``INSERT ... ON CONFLICT (id) DO NOTHING``, see ``writers``), and
acknowledge only after the commit. A crash before the commit loses
nothing (the events stay pending and are claimed again); a crash between commit and
acknowledgement duplicates nothing (the ids are already there).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from inferia.config import UsageSettings
from inferia.contracts.usage import USAGE_GROUP, USAGE_STREAM, UsageEvent
from inferia.core.errors import InferiaError
from inferia.db import Database
from inferia.filtration.usage.writers import Row, batch_writer
from inferia.state import StateBackend, StreamMessage

log = logging.getLogger(__name__)
_RETRY_PAUSE_S = 1.0


class UsageConsumer:
    def __init__(
        self,
        state: StateBackend,
        database: Database,
        settings: UsageSettings,
        *,
        name: str | None = None,
        stream: str = USAGE_STREAM,
    ) -> None:
        self._state = state
        self._database = database
        self._settings = settings
        self._stream = stream
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self._decoder = msgspec.json.Decoder(UsageEvent)
        self._task: asyncio.Task[None] | None = None
        self._writer = batch_writer(database)
        self.written = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="usage-consumer")

    async def close(self) -> None:
        if self._task is not None:
            # Unacknowledged events stay pending: the next consumer claims them.
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._writer.close()

    async def _run(self) -> None:
        ready = False
        while True:
            try:
                if not ready:
                    await self._state.stream_ensure_group(self._stream, USAGE_GROUP)
                    ready = True
                await self.run_once()
            except InferiaError as exc:
                # Database or state backend down: the events wait in the stream.
                log.warning("usage consumer: %s; retrying", exc.message)
                await asyncio.sleep(_RETRY_PAUSE_S)

    async def run_once(self) -> int:
        """Write and acknowledge one batch; returns how many events it held."""
        messages = await self.read()
        if messages:
            await self.write(messages)
            await self.ack(messages)
        return len(messages)

    async def read(self) -> list[StreamMessage]:
        batch = self._settings.batch_size
        claimed = await self._state.stream_claim_stale(
            self._stream,
            USAGE_GROUP,
            self.name,
            int(self._settings.claim_idle_s * 1000),
            batch,
        )
        if claimed:
            return claimed
        flush_ms = self._settings.flush_interval_ms
        messages = await self._state.stream_read(
            self._stream, USAGE_GROUP, self.name, batch, flush_ms
        )
        if messages and len(messages) < batch:
            # A read returns as soon as one event is there: wait the flush interval for
            # more, then take what came (without blocking). Writing every few events
            # made one SQLite transaction per handful of requests under load, each
            # taking the write lock and a commit, with its CPU on the event loop.
            await asyncio.sleep(flush_ms / 1000)
            messages += await self._state.stream_read(
                self._stream, USAGE_GROUP, self.name, batch - len(messages), 0
            )
        return messages

    async def write(self, messages: Sequence[StreamMessage]) -> None:
        rows: list[Row] = []
        timestamp = self._writer.timestamp
        for message in messages:
            try:
                rows.append(_row(self._decoder.decode(message.payload), timestamp))
            except msgspec.DecodeError:
                # Acknowledged with its batch: a malformed event can never be written.
                log.error("usage consumer: dropping malformed event %s", message.id)
        if rows:
            await self._writer.write(rows)
            self.written += len(rows)

    async def ack(self, messages: Sequence[StreamMessage]) -> None:
        await self._state.stream_ack(
            self._stream, USAGE_GROUP, [m.id for m in messages], delete=True
        )


def _row(event: UsageEvent, timestamp: Callable[[float], Any]) -> Row:
    # The order of ROW_COLUMNS.
    return (
        event.id,
        event.request_id[:64],
        event.organization_id,
        event.key_id,
        event.user_id,
        event.model[:200],
        event.deployment[:200] if event.deployment else None,
        event.prompt_tokens,
        event.completion_tokens,
        event.latency_ms,
        event.ttft_ms,
        event.status,
        event.stream,
        timestamp(event.created_at),
        event.cost_micros,
        event.api[:32],
        event.endpoint[:200] if event.endpoint else None,
        event.error_code[:64] if event.error_code else None,
        event.client_address[:64] if event.client_address else None,
        event.request_body,
        event.response_body,
    )
