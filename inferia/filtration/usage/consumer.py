"""The usage consumer: drains the usage stream into the database in batches.

Read a batch (first any batch a dead consumer left unacknowledged, then new events,
waiting up to ``flush_interval_ms`` for a partial batch to fill), insert every row of it
in one transaction with the driver's ``executemany`` of ``INSERT ... ON CONFLICT (id) DO
NOTHING``, and acknowledge only after the commit. A crash before the commit loses
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
from piccolo.table import Table

from inferia.config import UsageSettings
from inferia.core.errors import InferiaError
from inferia.db import Database, DatabaseKind
from inferia.filtration.usage.schema import USAGE_GROUP, USAGE_STREAM, UsageEvent
from inferia.filtration.usage.tables import InferenceLog, UsageRecord
from inferia.state import StateBackend, StreamMessage

log = logging.getLogger(__name__)
# Rows per executemany call: bounds the work of one call (and one hop to the driver).
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
        self._statements = (
            _Insert(UsageRecord, _USAGE_COLUMNS, database.kind),
            _Insert(InferenceLog, _LOG_COLUMNS, database.kind),
        )
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
        events: list[UsageEvent] = []
        for message in messages:
            try:
                events.append(self._decoder.decode(message.payload))
            except msgspec.DecodeError:
                # Acknowledged with its batch: a malformed event can never be written.
                log.error("usage consumer: dropping malformed event %s", message.id)
        if not events:
            return
        # Plain tuples and one prepared statement per table run through the driver's
        # executemany: building a piccolo Table and query string per row cost more CPU
        # on the event loop than the requests that produced the events.
        usage_rows: list[tuple[Any, ...]] = []
        log_rows: list[tuple[Any, ...]] = []
        for event in events:
            common = _common(event)
            usage_rows.append((*common, event.cost_micros))
            log_rows.append(_log_row(event, common))
        async with self._database.transaction():
            transaction = self._database.engine.current_transaction.get()
            assert transaction is not None
            connection = transaction.connection
            for start in range(0, len(events), _ROWS_PER_STATEMENT):
                end = start + _ROWS_PER_STATEMENT
                for statement, rows in zip(self._statements, (usage_rows, log_rows), strict=True):
                    await statement.run(connection, rows[start:end])
        self.written += len(events)

    async def ack(self, messages: Sequence[StreamMessage]) -> None:
        await self._state.stream_ack(
            self._stream, USAGE_GROUP, [m.id for m in messages], delete=True
        )


_COMMON_COLUMNS = (
    "id",
    "request_id",
    "organization_id",
    "key_id",
    "user_id",
    "model",
    "deployment",
    "prompt_tokens",
    "completion_tokens",
    "latency_ms",
    "ttft_ms",
    "status",
    "stream",
    "created_at",
)
_USAGE_COLUMNS = (*_COMMON_COLUMNS, "cost_micros")
_LOG_COLUMNS = (
    *_COMMON_COLUMNS,
    "api",
    "endpoint",
    "error_code",
    "client_address",
    "request_body",
    "response_body",
)


class _Insert:
    """``INSERT ... ON CONFLICT (id) DO NOTHING`` of a batch of rows.

    asyncpg: one prepared single-row statement through ``executemany`` (pipelined).
    SQLite: one statement carrying every row of the batch (``VALUES (..), (..)``): with
    ``executemany`` the driver takes the GIL to bind each row and releases it to run it,
    two hand-offs per row with the event loop's thread, which cost more CPU than the
    inserts themselves.
    """

    def __init__(self, table: type[Table], columns: tuple[str, ...], kind: DatabaseKind) -> None:
        known = {column._meta.db_column_name for column in table._meta.columns}
        if set(columns) != known:
            raise RuntimeError(f"usage consumer: the columns of {table._meta.tablename} changed")
        self._kind = kind
        names = ", ".join(f'"{name}"' for name in columns)
        self._head = f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES '
        self._tail = ' ON CONFLICT ("id") DO NOTHING'
        if kind == "sqlite":
            self._marks = "(" + ", ".join("?" for _ in columns) + ")"
        else:
            self._marks = "(" + ", ".join(f"${i}" for i in range(1, len(columns) + 1)) + ")"
        self.single_row = self._head + self._marks + self._tail

    async def run(self, connection: Any, rows: list[tuple[Any, ...]]) -> None:
        if self._kind != "sqlite":
            await connection.executemany(self.single_row, rows)
            return
        sql = self._head + ", ".join([self._marks] * len(rows)) + self._tail
        cursor = await connection.execute(sql, [value for row in rows for value in row])
        await cursor.close()


def _common(event: UsageEvent) -> tuple[Any, ...]:
    # The order of _COMMON_COLUMNS.
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
        datetime.fromtimestamp(event.created_at, UTC),
    )


def _log_row(event: UsageEvent, common: tuple[Any, ...]) -> tuple[Any, ...]:
    return (
        *common,
        event.api[:32],
        event.endpoint[:200] if event.endpoint else None,
        event.error_code[:64] if event.error_code else None,
        event.client_address[:64] if event.client_address else None,
        event.request_body,
        event.response_body,
    )
