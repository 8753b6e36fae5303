"""The usage consumer on both backend pairs: batches, ack after commit, no loss, no duplicates."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import msgspec
import pytest

from inferia.config import UsageSettings
from inferia.db import Database
from inferia.filtration.usage import (
    USAGE_GROUP,
    InferenceLog,
    UsageConsumer,
    UsageEvent,
    UsageRecord,
)
from inferia.state import StateBackend


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
    await state.cache_delete(name)


def _consumer(
    state: StateBackend, database: Database, stream: str, name: str, claim_idle_s: float = 30
) -> UsageConsumer:
    settings = UsageSettings(batch_size=200, flush_interval_ms=50, claim_idle_s=claim_idle_s)
    return UsageConsumer(state, database, settings, name=name, stream=stream)


async def test_batches_are_written_then_acknowledged(
    state: StateBackend, database: Database, stream: str
) -> None:
    org = str(uuid.uuid4())
    consumer = _consumer(state, database, stream, "a")
    await state.stream_ensure_group(stream, USAGE_GROUP)
    ids = await _enqueue(state, stream, org, 450)
    sizes = [await consumer.run_once() for _ in range(4)]
    assert sizes == [200, 200, 50, 0]
    usage, logs = await _stored_ids(org)
    assert sorted(usage) == sorted(ids) and sorted(logs) == sorted(ids)
    assert await state.stream_pending_count(stream, USAGE_GROUP) == 0


async def test_crash_between_commit_and_ack_duplicates_nothing(
    state: StateBackend, database: Database, stream: str
) -> None:
    org = str(uuid.uuid4())
    await state.stream_ensure_group(stream, USAGE_GROUP)
    ids = await _enqueue(state, stream, org, 150)
    crashed = _consumer(state, database, stream, "crashed")
    batch = await crashed.read()
    await crashed.write(batch)  # committed, then "killed" before the ack
    assert await state.stream_pending_count(stream, USAGE_GROUP) == 150
    survivor = _consumer(state, database, stream, "survivor", claim_idle_s=0)
    assert await survivor.run_once() == 150  # claims the dead consumer's batch
    assert await survivor.run_once() == 0
    usage, logs = await _stored_ids(org)
    assert len(usage) == len(logs) == 150 and set(usage) == ids
    assert await state.stream_pending_count(stream, USAGE_GROUP) == 0


async def test_crash_before_commit_loses_nothing(
    state: StateBackend, database: Database, stream: str
) -> None:
    org = str(uuid.uuid4())
    await state.stream_ensure_group(stream, USAGE_GROUP)
    ids = await _enqueue(state, stream, org, 120)
    crashed = _consumer(state, database, stream, "crashed")
    assert len(await crashed.read()) == 120  # read, never written: "killed"
    survivor = _consumer(state, database, stream, "survivor", claim_idle_s=0)
    assert await survivor.run_once() == 120
    usage, _ = await _stored_ids(org)
    assert set(usage) == ids


async def test_malformed_event_is_dropped_without_blocking_the_batch(
    state: StateBackend, database: Database, stream: str
) -> None:
    org = str(uuid.uuid4())
    await state.stream_ensure_group(stream, USAGE_GROUP)
    await state.stream_add(stream, b"{not json")
    ids = await _enqueue(state, stream, org, 3)
    consumer = _consumer(state, database, stream, "a")
    assert await consumer.run_once() == 4
    usage, _ = await _stored_ids(org)
    assert set(usage) == ids
    assert await state.stream_pending_count(stream, USAGE_GROUP) == 0
