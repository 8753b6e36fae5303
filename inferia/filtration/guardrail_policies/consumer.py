"""Guardrail events, the receiving side: drains the stream the inference plane's
``GuardrailEventSink`` fills into ``guardrail_events`` in batches, acknowledging after the
commit: a crash loses nothing and duplicates nothing (event ids are primary keys).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Sequence
from datetime import UTC, datetime

import msgspec

from inferia.core.errors import InferiaError, IntegrityViolation
from inferia.db import Database
from inferia.filtration.guardrail_policies.tables import GuardrailEvent
from inferia.guardrails.events import EVENTS_STREAM, GuardrailEventRecord
from inferia.state import StateBackend, StreamMessage

log = logging.getLogger(__name__)
EVENTS_GROUP = "guardrail-event-writers"
_BATCH = 500
_RETRY_PAUSE_S = 1.0


class GuardrailEventConsumer:
    def __init__(
        self,
        state: StateBackend,
        database: Database,
        *,
        name: str | None = None,
        stream: str = EVENTS_STREAM,
    ) -> None:
        self._state = state
        self._stream = stream
        self._database = database
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self._decoder = msgspec.json.Decoder(GuardrailEventRecord)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="guardrail-event-consumer")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        ready = False
        while True:
            try:
                if not ready:
                    await self._state.stream_ensure_group(self._stream, EVENTS_GROUP)
                    ready = True
                await self.run_once(block_ms=500)
            except InferiaError as exc:
                log.warning("guardrail event consumer: %s; retrying", exc.message)
                await asyncio.sleep(_RETRY_PAUSE_S)

    async def run_once(self, block_ms: int = 0) -> int:
        messages = await self._state.stream_claim_stale(
            self._stream, EVENTS_GROUP, self.name, 30_000, _BATCH
        ) or await self._state.stream_read(self._stream, EVENTS_GROUP, self.name, _BATCH, block_ms)
        if messages:
            await self._write(messages)
            await self._state.stream_ack(
                self._stream, EVENTS_GROUP, [m.id for m in messages], delete=True
            )
        return len(messages)

    async def _write(self, messages: Sequence[StreamMessage]) -> None:
        rows: list[GuardrailEvent] = []
        for message in messages:
            try:
                event = self._decoder.decode(message.payload)
            except msgspec.DecodeError:
                log.error("guardrail event consumer: dropping malformed event %s", message.id)
                continue
            rows.append(
                GuardrailEvent(
                    id=event.id,
                    organization=event.organization_id,
                    request_id=event.request_id,
                    key_id=event.key_id,
                    model=event.model,
                    direction=event.direction,
                    scanner=event.scanner,
                    category=event.category,
                    action=event.action,
                    location=event.location,
                    score=event.score,
                    created_at=datetime.fromtimestamp(event.created_at, UTC),
                )
            )
        if not rows:
            return
        try:
            async with self._database.transaction():
                await GuardrailEvent.insert(*rows).on_conflict(action="DO NOTHING")
        except IntegrityViolation:
            # One event of a deleted organisation must not block the stream forever:
            # write the rows one by one and drop those the database refuses.
            for row in rows:
                try:
                    async with self._database.transaction():
                        await GuardrailEvent.insert(row).on_conflict(action="DO NOTHING")
                except IntegrityViolation:
                    log.warning("guardrail event %s dropped: its organisation is gone", row.id)
