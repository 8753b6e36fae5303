"""Guardrail events, the receiving side: drains the stream the inference plane's
``GuardrailEventSink`` fills into ``guardrail_events`` in batches, through the shared
stream loop (``inferia.state.stream_consumer``): acknowledged after the commit, so a
crash loses nothing and duplicates nothing (event ids are primary keys).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import msgspec

from inferia.core.errors import IntegrityViolation
from inferia.db import Database
from inferia.filtration.guardrail_policies.tables import GuardrailEvent
from inferia.guardrails.events import EVENTS_STREAM, GuardrailEventRecord
from inferia.state import StateBackend, StreamMessage
from inferia.state.stream_consumer import StreamConsumer

log = logging.getLogger(__name__)
EVENTS_GROUP = "guardrail-event-writers"


class GuardrailEventConsumer:
    def __init__(
        self,
        state: StateBackend,
        database: Database,
        *,
        name: str | None = None,
        stream: str = EVENTS_STREAM,
        drain_s: float = 0.0,
    ) -> None:
        self._database = database
        self._decoder = msgspec.json.Decoder(GuardrailEventRecord)
        self._loop = StreamConsumer(
            state,
            self.write,
            stream=stream,
            group=EVENTS_GROUP,
            label="guardrail event consumer",
            name=name,
            drain_s=drain_s,
        )
        self.name = self._loop.name

    async def start(self) -> None:
        await self._loop.start()

    async def close(self) -> None:
        await self._loop.close()

    async def run_once(self, block_ms: int = 0) -> int:
        """Write and acknowledge one batch; returns how many events it held."""
        return await self._loop.run_once(block_ms)

    async def write(self, messages: Sequence[StreamMessage]) -> None:
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
