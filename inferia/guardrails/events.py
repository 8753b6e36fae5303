"""Guardrail events, the sending side: findings leave the request path for the database.

``GuardrailEventSink`` buffers findings in memory and a background task enqueues them on
the state backend's stream ``EVENTS_STREAM``, so the request path never waits on I/O.
The policy plane drains the stream into its table (``inferia.filtration.guardrail_policies``).
No event holds matched text.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence

import msgspec

from inferia.state import StateBackend, StreamBacklog

log = logging.getLogger(__name__)
EVENTS_STREAM = "inferia:guardrail-events"
_FLUSH_INTERVAL_S = 0.25
_MAX_BUFFERED = 100_000


class GuardrailEventRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    organization_id: str
    request_id: str
    key_id: str | None = None
    model: str
    direction: str
    scanner: str
    category: str
    action: str
    location: str
    score: float
    created_at: float  # epoch seconds


class GuardrailEventSink:
    def __init__(self, state: StateBackend, *, stream: str = EVENTS_STREAM) -> None:
        self._backlog = StreamBacklog(
            state, stream, _MAX_BUFFERED, interval_s=_FLUSH_INTERVAL_S, label="guardrail events"
        )
        self._encoder = msgspec.json.Encoder()

    @property
    def dropped(self) -> int:
        return self._backlog.dropped

    def add(
        self,
        *,
        organization_id: str,
        request_id: str,
        key_id: str | None,
        model: str,
        findings: Sequence[dict[str, object]],
    ) -> None:
        now = time.time()
        for finding in findings:
            self._backlog.keep(
                self._encoder.encode(
                    GuardrailEventRecord(
                        id=str(uuid.uuid4()),
                        organization_id=organization_id,
                        request_id=request_id[:64],
                        key_id=key_id,
                        model=model[:200],
                        direction=str(finding["direction"]),
                        scanner=str(finding["scanner"])[:64],
                        category=str(finding["category"])[:64],
                        action=str(finding["action"]),
                        location=str(finding["where"])[:200],
                        score=float(finding["score"]),  # type: ignore[arg-type]
                        created_at=now,
                    )
                )
            )

    async def start(self) -> None:
        await self._backlog.start()

    async def close(self) -> None:
        await self._backlog.close()

    async def flush(self) -> None:
        await self._backlog.flush()
