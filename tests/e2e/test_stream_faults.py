"""Fault: the upstream dies in the middle of streams. Every client gets the error event
and then the end of its response, within a bounded time; none is left waiting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.gateway_fixtures import create_key, gateway

pytestmark = pytest.mark.e2e

STREAMS = 300
AT_ONCE = 30
# Far below the client timeouts the audit saw streams hang until (90 s).
BOUND_S = 10.0


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp: Path = tmp_path_factory.mktemp("stream-faults")
    models = lambda fake: [{"name": "m", "base_url": fake.url("a")}]  # noqa: E731
    # Every stream fails the endpoint: keep its circuit closed throughout.
    with gateway(tmp, 1, models, {"max_retries": 0, "circuit_failure_threshold": 100000}) as (
        fake,
        server,
        env,
    ):
        yield {"fake": fake, "server": server, "key": create_key(env)}


async def _one(client: httpx.AsyncClient, body: dict[str, Any]) -> tuple[float, bytes]:
    started = time.monotonic()
    chunks: list[bytes] = []
    async with client.stream("POST", "/chat/completions", json=body) as reply:
        assert reply.status_code == 200
        async for chunk in reply.aiter_bytes():
            chunks.append(chunk)
    return time.monotonic() - started, b"".join(chunks)


async def _storm(base_url: str, key: str, body: dict[str, Any]) -> list[tuple[float, bytes]]:
    limits = httpx.Limits(max_connections=AT_ONCE, max_keepalive_connections=AT_ONCE)
    timeout = httpx.Timeout(BOUND_S * 3)
    async with httpx.AsyncClient(
        base_url=f"{base_url}/v1",
        headers={"authorization": f"Bearer {key}"},
        limits=limits,
        timeout=timeout,
    ) as client:
        gate = asyncio.Semaphore(AT_ONCE)

        async def bounded() -> tuple[float, bytes]:
            async with gate:
                return await _one(client, body)

        return await asyncio.gather(*(bounded() for _ in range(STREAMS)))


@pytest.mark.parametrize(
    ("delay", "usage"),
    [(0.0, True), (0.01, True), (0.0, False)],
    # Without the upstream's usage the gateway counts tokens in worker threads: the
    # client's end of stream must not wait for that.
    ids=["burst", "paced", "counted"],
)
def test_every_stream_ends_after_the_upstream_dies_mid_stream(
    running: dict[str, Any], delay: float, usage: bool
) -> None:
    body = {
        "model": "m",
        "stream": True,
        "messages": [{"role": "user", "content": "hi " * 2000}],
        "fake": {"chunks": 6, "fail_after_chunks": 3, "chunk_delay_s": delay, "usage": usage},
    }
    results = asyncio.run(_storm(running["server"].base_url, running["key"], body))
    slow = [took for took, _ in results if took > BOUND_S]
    assert not slow, f"{len(slow)} of {STREAMS} streams took over {BOUND_S}s"
    for _, data in results:
        assert b"upstream_stream_failed" in data, data[-300:]
        # The error event is the last event: nothing after it but the end.
        assert (
            data.rstrip().endswith(b"[DONE]")
            or b"upstream_stream_failed" in data.split(b"\n\n")[-2]
        ), data[-300:]
