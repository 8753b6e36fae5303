"""The usage consumer: drains the usage stream into the database in batches.

Read a batch (first any batch a dead consumer left unacknowledged, then new events),
insert every row of it in one transaction with multi-row ``INSERT ... ON CONFLICT (id)
DO NOTHING``, and acknowledge only after the commit. A crash before the commit loses
nothing (the events stay pending and are claimed again); a crash between commit and
acknowledgement duplicates nothing (the ids are already there).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

from inferia.config import UsageSettings
from inferia.core.errors import InferiaError
from inferia.db import Database
from inferia.filtration.usage.schema import USAGE_GROUP, USAGE_STREAM, UsageEvent
from inferia.filtration.usage.tables import InferenceLog, UsageRecord
from inferia.state import StateBackend, StreamMessage

log = logging.getLogger(__name__)
# Rows per INSERT statement: keeps the bound parameters under every engine's limit.
_ROWS_PER_STATEMENT = 500
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
        return await self._state.stream_read(
            self._stream, USAGE_GROUP, self.name, batch, self._settings.flush_interval_ms
        )

    async def write(self, messages: Sequence[StreamMessage]) -> None:
        events: list[UsageEvent] = []
        for message in messages:
            try:
                events.append(self._decoder.decode(message.payload))
            except msgspec.DecodeError:
                # Acknowledged with its batch: a malformed event can never be written.
                log.error("usage consumer: dropping malformed event %s", message.id)
        if not events:
            return
        async with self._database.transaction():
            for start in range(0, len(events), _ROWS_PER_STATEMENT):
                chunk = events[start : start + _ROWS_PER_STATEMENT]
                await UsageRecord.insert(*(_usage_row(e) for e in chunk)).on_conflict(
                    action="DO NOTHING"
                )
                await InferenceLog.insert(*(_log_row(e) for e in chunk)).on_conflict(
                    action="DO NOTHING"
                )
        self.written += len(events)

    async def ack(self, messages: Sequence[StreamMessage]) -> None:
        await self._state.stream_ack(self._stream, USAGE_GROUP, [m.id for m in messages])


def _common(event: UsageEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "request_id": event.request_id[:64],
        "organization_id": event.organization_id,
        "key_id": event.key_id,
        "user_id": event.user_id,
        "model": event.model[:200],
        "deployment": event.deployment[:200] if event.deployment else None,
        "prompt_tokens": event.prompt_tokens,
        "completion_tokens": event.completion_tokens,
        "latency_ms": event.latency_ms,
        "ttft_ms": event.ttft_ms,
        "status": event.status,
        "stream": event.stream,
        "created_at": datetime.fromtimestamp(event.created_at, UTC),
    }


def _usage_row(event: UsageEvent) -> UsageRecord:
    return UsageRecord(**_common(event), cost_micros=event.cost_micros)


def _log_row(event: UsageEvent) -> InferenceLog:
    return InferenceLog(
        **_common(event),
        api=event.api[:32],
        endpoint=event.endpoint[:200] if event.endpoint else None,
        error_code=event.error_code[:64] if event.error_code else None,
        client_address=event.client_address[:64] if event.client_address else None,
        request_body=event.request_body,
        response_body=event.response_body,
    )
