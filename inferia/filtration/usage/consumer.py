"""The usage consumer: drains the usage stream into the database in batches.

The shared stream loop (``inferia.state.stream_consumer``) reads a batch (first any
batch a dead consumer left unacknowledged, then new events, waiting up to
``flush_interval_ms`` for a partial batch to fill); ``write`` inserts every row of it in
one transaction (``INSERT ... ON CONFLICT (id) DO NOTHING``, see ``writers``), and the
loop acknowledges only after the commit. A crash before the commit loses nothing (the
events stay pending and are claimed again); a crash between commit and acknowledgement
duplicates nothing (the ids are already there).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from inferia.config import UsageSettings
from inferia.contracts.usage import USAGE_GROUP, USAGE_STREAM, UsageEvent
from inferia.db import Database
from inferia.filtration.usage.writers import Row, batch_writer
from inferia.state import StateBackend, StreamMessage
from inferia.state.stream_consumer import StreamConsumer

log = logging.getLogger(__name__)


class UsageConsumer:
    def __init__(
        self,
        state: StateBackend,
        database: Database,
        settings: UsageSettings,
        *,
        name: str | None = None,
        stream: str = USAGE_STREAM,
        drain_s: float = 0.0,
    ) -> None:
        self._decoder = msgspec.json.Decoder(UsageEvent)
        self._writer = batch_writer(database)
        flush_ms = settings.flush_interval_ms
        self._loop = StreamConsumer(
            state,
            self.write,
            stream=stream,
            group=USAGE_GROUP,
            label="usage consumer",
            name=name,
            batch_size=settings.batch_size,
            # Wait up to the flush interval for an event, and as long for a partial
            # batch to fill.
            block_ms=flush_ms,
            fill_ms=flush_ms,
            claim_idle_ms=int(settings.claim_idle_s * 1000),
            drain_s=drain_s,
        )
        self.name = self._loop.name

    async def start(self) -> None:
        await self._loop.start()

    async def close(self) -> None:
        await self._loop.close()
        await self._writer.close()

    async def run_once(self) -> int:
        """Write and acknowledge one batch; returns how many events it held."""
        return await self._loop.run_once()

    async def read(self) -> list[StreamMessage]:
        return await self._loop.read()

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
