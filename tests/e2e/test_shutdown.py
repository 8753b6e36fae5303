"""SIGTERM drains: a request already in flight is answered before the server exits, and
in embedded mode the usage records still queued in memory are written."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.gateway_fixtures import client, create_key, gateway

pytestmark = pytest.mark.e2e


def test_sigterm_lets_in_flight_requests_finish(tmp_path: Path) -> None:
    def models(fake: Any) -> list[dict[str, Any]]:
        return [{"name": "slow", "base_url": fake.url("a"), "api_key": "upstream-key"}]

    with gateway(tmp_path, 1, models) as (fake, server, env):
        fake.set("a", latency_s=1.5)
        sdk = client(server, create_key(env))
        outcome: dict[str, Any] = {}

        def call() -> None:
            try:
                reply = sdk.chat.completions.create(
                    model="slow", messages=[{"role": "user", "content": "hi"}]
                )
                outcome["content"] = reply.choices[0].message.content
            except Exception as exc:  # recorded, asserted below
                outcome["error"] = exc

        caller = threading.Thread(target=call)
        caller.start()
        time.sleep(0.5)  # the request is now waiting on the upstream
        assert server.process is not None
        stopped_at = time.monotonic()
        assert server.stop(timeout=20) == 0
        caller.join(10)
        assert "error" not in outcome, outcome.get("error")
        assert outcome["content"] == "Hello from the fake upstream."
        assert time.monotonic() - stopped_at >= 0.9  # it waited for the reply
        # And it no longer accepts new connections.
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{server.base_url}/health", timeout=1)


def _usage_rows(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "inferia.sqlite3") as connection:
        return int(connection.execute("SELECT count(*) FROM usage_records").fetchone()[0])


async def _burst(base_url: str, key: str, count: int) -> list[int]:
    async with httpx.AsyncClient(
        base_url=f"{base_url}/v1", headers={"authorization": f"Bearer {key}"}, timeout=60
    ) as http:
        gate = asyncio.Semaphore(20)
        body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}

        async def one() -> int:
            async with gate:
                return (await http.post("/chat/completions", json=body)).status_code

        return await asyncio.gather(*(one() for _ in range(count)))


def test_sigterm_right_after_a_burst_writes_every_usage_record(tmp_path: Path) -> None:
    """Embedded mode (SQLite + memory): the usage queue lives in the process, so SIGTERM
    drains it into the database before exit; every answered request has its record."""

    def models(fake: Any) -> list[dict[str, Any]]:
        return [{"name": "m", "base_url": fake.url("a")}]

    # Records wait up to 3 s in the queue: without the drain most of them would be lost.
    with gateway(tmp_path, 1, models, None, INFERIA_USAGE__FLUSH_INTERVAL_MS="3000") as (
        _,
        server,
        env,
    ):
        statuses = asyncio.run(_burst(server.base_url, create_key(env), 300))
        assert statuses.count(200) == 300
        assert server.stop(timeout=40) == 0
    assert _usage_rows(tmp_path / "data") == 300
