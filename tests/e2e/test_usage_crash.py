"""Killing the usage consumer mid-batch (SIGKILL) and restarting it: no loss, no duplicates.

The consumer is the real one, inside `inferia serve --plane filtration` on PostgreSQL +
Redis. Events are queued first; the server is killed while it is writing them.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg
import msgspec
import pytest

from inferia.contracts.usage import USAGE_GROUP, USAGE_STREAM, UsageEvent
from inferia.state import RedisStateBackend
from tests.e2e.limits_cluster import ScratchPostgres, fresh_redis, kill_tree, serving
from tests.processes import InferiaServer, inferia_env, wait_until
from tests.state_support import pending_count

pytestmark = pytest.mark.e2e
REDIS_DB = 4  # a slot: INFERIA_TEST_REDIS_URL's database + 4 (tests/services.py)
EVENTS = 6000


async def _enqueue(state_url: str) -> set[str]:
    state = RedisStateBackend(state_url)
    ids: set[str] = set()
    try:
        for start in range(0, EVENTS, 50):
            events = [
                UsageEvent(
                    id=str(uuid.uuid4()),
                    request_id=f"r{i}",
                    organization_id="00000000-0000-0000-0000-000000000001",
                    api="chat.completions",
                    model="m",
                    prompt_tokens=i,
                    created_at=time.time(),
                )
                for i in range(start, start + 50)
            ]
            ids.update(e.id for e in events)
            await asyncio.gather(
                *(state.stream_add(USAGE_STREAM, msgspec.json.encode(e)) for e in events)
            )
    finally:
        await state.close()
    return ids


async def _counts(database_url: str) -> tuple[int, int, set[str]]:
    connection = await asyncpg.connect(database_url)
    try:
        usage = await connection.fetch("SELECT id::text FROM usage_records")
        logs = await connection.fetchval("SELECT count(*) FROM inference_logs")
        return len(usage), int(logs), {r[0] for r in usage}
    except asyncpg.UndefinedTableError:
        return 0, 0, set()
    finally:
        await connection.close()


async def _pending(state_url: str) -> int:
    state = RedisStateBackend(state_url)
    try:
        return await pending_count(state, USAGE_STREAM, USAGE_GROUP)
    finally:
        await state.close()


def test_killed_consumer_loses_and_duplicates_nothing(tmp_path: object) -> None:
    state_url = fresh_redis(REDIS_DB)
    ids = asyncio.run(_enqueue(state_url))
    with ScratchPostgres() as database_url:
        env = inferia_env(
            tmp_path,  # type: ignore[arg-type]
            INFERIA_DATABASE__URL=database_url,
            INFERIA_STATE__URL=state_url,
            INFERIA_DATABASE__MIGRATE_ON_START="true",
            INFERIA_ADMIN_PASSWORD="crash admin password",
            INFERIA_USAGE__BATCH_SIZE="50",
            INFERIA_USAGE__CLAIM_IDLE_S="1",
        )
        first = InferiaServer(env, ["--plane", "filtration"]).start()
        try:
            wait_until(lambda: asyncio.run(_counts(database_url))[0] >= 500, timeout=30)
        finally:
            # The consumer runs in granian's worker: kill it (and the server) outright.
            kill_tree(first)
            first.stop()
        written_before, _, _ = asyncio.run(_counts(database_url))
        assert written_before < EVENTS, "the consumer finished before it was killed"

        with serving(env, ["--plane", "filtration"]):
            wait_until(lambda: asyncio.run(_counts(database_url))[0] == EVENTS, timeout=60)
            wait_until(lambda: asyncio.run(_pending(state_url)) == 0, timeout=10)
            time.sleep(0.5)  # nothing more may arrive
            usage, logs, stored = asyncio.run(_counts(database_url))
    assert usage == logs == EVENTS
    assert stored == ids
