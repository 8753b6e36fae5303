"""Fault: Redis stops while requests are served (limits fail open) and comes back empty
(no persistence). Every answered request still gets its usage record: the gateway
keeps what Redis could not take in its backlog and enqueues it after recovery, and the
consumer recreates its group. Runs on PostgreSQL + a Redis of its own (never the
shared one)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.limits_cluster import (
    cluster_env,
    create_key,
    run_chat,
    serving,
    usage_rows,
)
from tests.processes import free_port, wait_until

pytestmark = pytest.mark.e2e
DURING_OUTAGE = 60


class OwnRedis:
    """A redis-server without persistence on a port of its own: stop, start again."""

    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self._dir = data_dir
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> OwnRedis:
        self._process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self._dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._answers, timeout=10)
        return self

    def _answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port).ping())
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(10)
            self._process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path).start()
    try:
        yield server
    finally:
        server.stop()


def test_usage_records_of_requests_served_during_a_redis_outage_are_kept(
    tmp_path: Path, redis_server: OwnRedis
) -> None:
    with (
        cluster_env(tmp_path, redis_server.port, INFERIA_LIMITS__ON_STATE_ERROR="fail_open") as (
            env,
            database_url,
        ),
        serving(env) as server,
    ):
        key = create_key(env, "usage")
        served = sum(run_chat(server.base_url, key)[0] == 200 for _ in range(5))
        assert served == 5
        # What Redis already holds dies with it (no persistence): stop it once
        # those are written; the test is about what it could not take.
        wait_until(lambda: usage_rows(database_url) == 5, timeout=30)
        redis_server.stop()
        started = time.monotonic()
        statuses = [run_chat(server.base_url, key)[0] for _ in range(DURING_OUTAGE)]
        served += statuses.count(200)
        assert statuses.count(200) == DURING_OUTAGE, statuses
        assert time.monotonic() - started < 60
        redis_server.start()  # empty: no stream, no consumer group
        try:
            wait_until(lambda: usage_rows(database_url) >= served, timeout=60)
        except AssertionError:
            rows = usage_rows(database_url)
            raise AssertionError(f"{rows} of {served} records\n{server.output[-3000:]}") from None
        assert usage_rows(database_url) == served
        metrics = httpx.get(f"{server.base_url}/metrics").text
        assert "inferia_usage_events_dropped_total 0.0" in metrics
        deferred = next(
            line
            for line in metrics.splitlines()
            if line.startswith("inferia_usage_events_deferred_total")
        )
        assert float(deferred.split()[-1]) >= DURING_OUTAGE
