"""The usage consumer on both backend pairs: batches, ack after commit, no loss, no duplicates."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import msgspec
import pytest

from inferia.config import UsageSettings
from inferia.contracts.usage import USAGE_GROUP, UsageEvent
from inferia.db import Database
from inferia.filtration.usage.consumer import UsageConsumer
from inferia.filtration.usage.tables import InferenceLog, UsageRecord
from inferia.state import StateBackend
from tests.state_support import delete_keys, pending_count


def _event(org: str, i: int) -> UsageEvent:
    return UsageEvent(
        id=str(uuid.uuid4()),
        request_id=f"req-{i}",
        organization_id=org,
        key_id="k",
        api="chat.completions",
        model="m",
        prompt_tokens=i,
        completion_tokens=1,
        cost_micros=i * 10,
        latency_ms=5,
        created_at=time.time(),
    )


async def _enqueue(state: StateBackend, stream: str, org: str, n: int) -> set[str]:
    ids = set()
    for i in range(n):
        event = _event(org, i)
        ids.add(event.id)
        await state.stream_add(stream, msgspec.json.encode(event))
    return ids


async def _stored_ids(org: str) -> tuple[list[str], list[str]]:
    usage = await UsageRecord.select(UsageRecord.id).where(UsageRecord.organization_id == org)
    logs = await InferenceLog.select(InferenceLog.id).where(InferenceLog.organization_id == org)
    return [str(r["id"]) for r in usage], [str(r["id"]) for r in logs]


@pytest.fixture
async def stream(state: StateBackend) -> AsyncIterator[str]:
    """A stream of the test's own, deleted afterwards (Redis keeps streams forever)."""
    name = f"test:usage:{uuid.uuid4().hex}"
    yield name
    await delete_keys(state, name)


MakeConsumer = Callable[..., UsageConsumer]


@pytest.fixture
async def make_consumer(
    state: StateBackend, database: Database, stream: str
) -> AsyncIterator[MakeConsumer]:
    """Consumers of the test's stream, closed afterwards (each may hold a connection)."""
    made: list[UsageConsumer] = []

    def make(name: str, claim_idle_s: float = 30) -> UsageConsumer:
        settings = UsageSettings(batch_size=200, flush_interval_ms=50, claim_idle_s=claim_idle_s)
        made.append(UsageConsumer(state, database, settings, name=name, stream=stream))
        return made[-1]

    yield make
    for consumer in made:
        await consumer.close()


async def test_batches_are_written_then_acknowledged(
    state: StateBackend, database: Database, stream: str, make_consumer: MakeConsumer
) -> None:
    org = str(uuid.uuid4())
    consumer = make_consumer("a")
    await state.stream_ensure_group(stream, USAGE_GROUP)
    ids = await _enqueue(state, stream, org, 450)
    sizes = [await consumer.run_once() for _ in range(4)]
    assert sizes == [200, 200, 50, 0]
    usage, logs = await _stored_ids(org)
    assert sorted(usage) == sorted(ids) and sorted(logs) == sorted(ids)
    assert await pending_count(state, stream, USAGE_GROUP) == 0


async def test_crash_between_commit_and_ack_duplicates_nothing(
    state: StateBackend, database: Database, stream: str, make_consumer: MakeConsumer
) -> None:
    org = str(uuid.uuid4())
    await state.stream_ensure_group(stream, USAGE_GROUP)
    ids = await _enqueue(state, stream, org, 150)
    crashed = make_consumer("crashed")
    batch = await crashed.read()
    await crashed.write(batch)  # committed, then "killed" before the ack
    assert await pending_count(state, stream, USAGE_GROUP) == 150
    survivor = make_consumer("survivor", claim_idle_s=0)
    assert await survivor.run_once() == 150  # claims the dead consumer's batch
    assert await survivor.run_once() == 0
    usage, logs = await _stored_ids(org)
    assert len(usage) == len(logs) == 150 and set(usage) == ids
    assert await pending_count(state, stream, USAGE_GROUP) == 0


async def test_crash_before_commit_loses_nothing(
    state: StateBackend, database: Database, stream: str, make_consumer: MakeConsumer
) -> None:
    org = str(uuid.uuid4())
    await state.stream_ensure_group(stream, USAGE_GROUP)
    ids = await _enqueue(state, stream, org, 120)
    crashed = make_consumer("crashed")
    assert len(await crashed.read()) == 120  # read, never written: "killed"
    survivor = make_consumer("survivor", claim_idle_s=0)
    assert await survivor.run_once() == 120
    usage, _ = await _stored_ids(org)
    assert set(usage) == ids


async def test_malformed_event_is_dropped_without_blocking_the_batch(
    state: StateBackend, database: Database, stream: str, make_consumer: MakeConsumer
) -> None:
    org = str(uuid.uuid4())
    await state.stream_ensure_group(stream, USAGE_GROUP)
    await state.stream_add(stream, b"{not json")
    ids = await _enqueue(state, stream, org, 3)
    consumer = make_consumer("a")
    assert await consumer.run_once() == 4
    usage, _ = await _stored_ids(org)
    assert set(usage) == ids
    assert await pending_count(state, stream, USAGE_GROUP) == 0


async def test_rows_read_back_as_written(
    state: StateBackend, database: Database, stream: str, make_consumer: MakeConsumer
) -> None:
    # Every column type of both tables, as piccolo reads it back (SQLite stores what
    # the consumer wrote from one JSON document; PostgreSQL, bound values).
    org = str(uuid.uuid4())
    await state.stream_ensure_group(stream, USAGE_GROUP)
    created = datetime(2026, 11, 27, 15, 30, 1, 123000, tzinfo=UTC)
    event = UsageEvent(
        id=str(uuid.uuid4()),
        request_id="r" * 80,  # longer than the column: clipped
        organization_id=org,
        key_id=None,
        user_id="u-1",
        api="completions",
        model="m",
        deployment="d",
        endpoint=None,
        status=502,
        error_code="upstream_error",
        stream=True,
        prompt_tokens=7,
        completion_tokens=0,
        cost_micros=2**40,
        latency_ms=12,
        ttft_ms=None,
        client_address="10.0.0.1",
        created_at=created.timestamp(),
        request_body='v1.sealed "quoted" \u00e9',
    )
    await state.stream_add(stream, msgspec.json.encode(event))
    assert await make_consumer("a").run_once() == 1
    usage = await UsageRecord.select().where(UsageRecord.organization_id == org).first()
    log = await InferenceLog.select().where(InferenceLog.organization_id == org).first()
    assert usage is not None and log is not None
    assert str(usage["id"]) == event.id and usage["request_id"] == "r" * 64
    assert usage["key_id"] is None and usage["user_id"] == "u-1"
    assert usage["cost_micros"] == 2**40 and usage["stream"] is True
    assert usage["ttft_ms"] is None and usage["status"] == 502
    assert usage["created_at"] == created
    assert log["api"] == "completions" and log["endpoint"] is None
    assert log["error_code"] == "upstream_error" and log["client_address"] == "10.0.0.1"
    assert log["request_body"] == event.request_body and log["response_body"] is None
    assert log["created_at"] == created
    # Queries that compare timestamps find it (SQLite compares the stored text).
    since = await UsageRecord.count().where(
        (UsageRecord.organization_id == org) & (UsageRecord.created_at >= created)
    )
    assert since == 1
