"""Fault: SIGKILL of one of two granian workers while traffic flows (PostgreSQL + a Redis
of this test's own). The supervisor respawns it, the other worker keeps serving, and no
usage record is lost: every request answered after the kill has its record; of the ones
answered before, at most those the dead worker had answered but not yet appended (its
in-memory work dies with it, docs/reliability.md) may be missing."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from pathlib import Path

import httpx
import pytest

from tests.e2e.limits_cluster import cluster_env, create_key, serving, usage_rows
from tests.e2e.test_usage_redis_restart import OwnRedis, redis_server  # noqa: F401
from tests.processes import child_processes, wait_until

pytestmark = pytest.mark.e2e
AT_ONCE = 4
BEFORE_KILL = 100
AFTER_RESPAWN = 100


class Traffic(threading.Thread):
    """``AT_ONCE`` clients sending non-streamed chats back to back until stopped."""

    def __init__(self, base_url: str, key: str) -> None:
        super().__init__(daemon=True)
        self._base_url, self._key = base_url, key
        self.statuses: list[int] = []  # 0: the connection failed (its worker died)
        self.stop = threading.Event()

    def served(self) -> int:
        return self.statuses.count(200)

    def run(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        body = {"model": "fake", "messages": [{"role": "user", "content": "hi"}]}
        async with httpx.AsyncClient(
            base_url=f"{self._base_url}/v1",
            headers={"authorization": f"Bearer {self._key}"},
            timeout=60,
        ) as client:

            async def loop() -> None:
                while not self.stop.is_set():
                    try:
                        reply = await client.post("/chat/completions", json=body)
                        self.statuses.append(reply.status_code)
                    except httpx.TransportError:
                        self.statuses.append(0)

            await asyncio.gather(*(loop() for _ in range(AT_ONCE)))


def test_a_killed_worker_is_respawned_and_no_usage_record_is_lost(
    tmp_path: Path,
    redis_server: OwnRedis,  # noqa: F811 (the fixture, imported)
) -> None:
    with (
        cluster_env(tmp_path, redis_server.port) as (env, database_url),
        serving(env, ["--workers", "2"]) as server,
    ):
        assert server.process is not None
        supervisor = server.process.pid
        wait_until(lambda: len(child_processes(supervisor)) == 2, timeout=30)
        key = create_key(env, "worker-kill")
        traffic = Traffic(server.base_url, key)
        traffic.start()
        try:
            wait_until(lambda: traffic.served() >= BEFORE_KILL, timeout=120)
            victim = child_processes(supervisor)[0]
            os.kill(victim, signal.SIGKILL)
            at_kill = len(traffic.statuses)
            wait_until(
                lambda: (
                    "Respawning worker" in server.output
                    and victim not in child_processes(supervisor)
                    and len(child_processes(supervisor)) == 2
                ),
                timeout=60,
            )
            respawned = len(traffic.statuses)
            wait_until(
                lambda: traffic.served() >= BEFORE_KILL + AFTER_RESPAWN + AT_ONCE,
                timeout=120,
            )
        finally:
            traffic.stop.set()
            traffic.join(60)
        assert server.process.poll() is None, server.output[-3000:]
        statuses = traffic.statuses
        failed = [i for i, status in enumerate(statuses) if status != 200]
        # Only requests in flight on the dead worker fail (connection errors).
        assert all(statuses[i] == 0 for i in failed), statuses
        assert len(failed) <= AT_ONCE * 2, (len(failed), at_kill, respawned)
        served = traffic.served()
        # Every record of a served request is written (wait for the consumer),
        # but the dead worker may have had a few replies not yet appended.
        with contextlib.suppress(AssertionError):
            wait_until(lambda: usage_rows(database_url) >= served, timeout=30)
        rows = usage_rows(database_url)
        print(f"served {served}, failed {len(failed)}, usage records {rows}")
        assert served - AT_ONCE <= rows <= served, (rows, served)
        # After recovery nothing at all is lost.
        more = Traffic(server.base_url, key)
        more.start()
        try:
            wait_until(lambda: more.served() >= AFTER_RESPAWN, timeout=120)
        finally:
            more.stop.set()
            more.join(60)
        assert set(more.statuses) == {200}, more.statuses
        wait_until(lambda: usage_rows(database_url) >= rows + more.served(), timeout=60)
        assert usage_rows(database_url) == rows + more.served()
