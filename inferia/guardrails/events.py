"""Guardrail events, the sending side: findings leave the request path for the database.

``GuardrailEventSink`` buffers findings in memory and a background task enqueues them on
the state backend's stream ``EVENTS_STREAM``, so the request path never waits on I/O.
The policy plane drains the stream into its table (``inferia.filtration.guardrail_policies``).
No event holds matched text.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import Sequence

import msgspec

from inferia.core.errors import InferiaError
from inferia.core.tasks import cancel_and_wait
from inferia.state import StateBackend

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
        self._state = state
        self._stream = stream
        self._buffer: deque[bytes] = deque(maxlen=_MAX_BUFFERED)
        self._encoder = msgspec.json.Encoder()
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

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
            if len(self._buffer) == self._buffer.maxlen:
                self.dropped += 1
            self._buffer.append(
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
        self._task = asyncio.create_task(self._run(), name="guardrail-event-sink")

    async def close(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None
        await self.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(_FLUSH_INTERVAL_S)
            await self.flush()

    async def flush(self) -> None:
        while self._buffer:
            payload = self._buffer[0]
            try:
                await self._state.stream_add(self._stream, payload)
            except InferiaError as exc:
                log.warning("guardrail events not enqueued yet: %s", exc.message)
                return
            self._buffer.popleft()
