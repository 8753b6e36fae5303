"""Stream entries waiting in this process for the state backend to take them.

Producers that must not lose an event to a short state-backend outage (Redis
restarting, a network blip), nor wait on the backend on the request path, ``keep`` the
encoded event here; a background task appends the backlog to its stream, oldest first,
every ``interval_s`` until it is empty, and stops at the first failure. An entry
appended twice (a reply lost after Redis applied it) must be harmless: the consumers
insert by event id.

Bounded by ``max_events``: past it the oldest entries are dropped and counted
(``dropped``). It lives in memory: a process killed during an outage loses it
(docs/reliability.md). Users: the usage sink (events whose append failed) and the
guardrail event sink (every finding, flushed in the background).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from inferia.core.errors import InferiaError
from inferia.core.tasks import cancel_and_wait
from inferia.state.base import StateBackend, StreamAppend

log = logging.getLogger(__name__)
_BATCH = 200


class StreamBacklog:
    def __init__(
        self,
        state: StateBackend,
        stream: str,
        max_events: int,
        *,
        interval_s: float = 1.0,
        label: str = "events",
    ) -> None:
        self._state = state
        self._stream = stream
        self._events: deque[bytes] = deque()
        self._max = max_events
        self._interval_s = interval_s
        self._label = label
        # Entries lost for good (the backlog was full), and entries that went through it.
        self.dropped = 0
        self.deferred = 0
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._events)

    def keep(self, payload: bytes) -> None:
        """Append ``payload`` later (dropping the oldest entry when full)."""
        if len(self._events) >= self._max:
            self._events.popleft()
            self.dropped += 1
        self._events.append(payload)
        self.deferred += 1

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"{self._label} backlog")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait(task)
        await self.flush()
        if self._events:
            log.error("%s: %d could not be enqueued before exit", self._label, len(self._events))

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            await self.flush()

    async def flush(self) -> None:
        """Append the backlog, oldest first; stop at the first failure."""
        events = self._events
        while events:
            batch = [events[i] for i in range(min(_BATCH, len(events)))]
            try:
                results = await self._state.run_batch(
                    [StreamAppend(self._stream, payload) for payload in batch]
                )
            except InferiaError as exc:
                log.warning(
                    "%s: %d wait for the state backend: %s", self._label, len(events), exc.message
                )
                return
            for result in results:
                if isinstance(result, InferiaError):
                    return  # that one and the rest stay, in order
                events.popleft()
