"""Limits across processes: two `inferia serve` sharing PostgreSQL and Redis, exact counts.

Clients hammer both servers at once through the official openai SDK; the fake upstream
answers. GCRA refills continuously, so each limit is chosen so that the refill during
the burst stays below one request's worth.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from inferia.inference.tokens import TokenCounter, install_encodings
from tests.e2e.fake_upstream import FakeUpstream
from tests.e2e.limits_cluster import (
    ScratchPostgres,
    chat,
    client,
    create_key,
    fresh_redis,
    run_chat,
    serving,
    write_config,
)
from tests.processes import free_port, inferia_env, wait_until

pytestmark = pytest.mark.e2e
REDIS_DB = 1  # a slot: INFERIA_TEST_REDIS_URL's database + 1 (tests/services.py)
MAX_TOKENS = 40
MESSAGES = [{"role": "user", "content": "hello"}]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], list[str]]]:
    upstream = FakeUpstream([free_port()]).start()
    data_dir = tmp_path_factory.mktemp("limits")
    config = write_config(data_dir / "inferia.toml", upstream.url())
    try:
        with ScratchPostgres() as database_url:
            env = inferia_env(
                data_dir,
                INFERIA_CONFIG=str(config),
                INFERIA_DATABASE__URL=database_url,
                INFERIA_STATE__URL=fresh_redis(REDIS_DB),
                INFERIA_DATABASE__MIGRATE_ON_START="true",
                INFERIA_ADMIN_PASSWORD="limits admin password",
            )
            # The second starts after the first migrated and wrote the shared secrets.
            with serving(env) as first, serving(env) as second:
                yield env, [first.base_url, second.base_url]
    finally:
        upstream.stop()


def _reservation(tmp_path: Path) -> int:
    """What the gateway reserves per request: tiktoken prompt count + max_tokens."""
    install_encodings(tmp_path / "tiktoken")
    prompt = TokenCounter().prompt_tokens("fake", "chat.completions", {"messages": MESSAGES})
    return prompt + MAX_TOKENS


def test_rpm_exact_across_two_processes(cluster: tuple[dict[str, str], list[str]]) -> None:
    env, urls = cluster
    key = create_key(env, "rpm", "--rpm", "10")

    async def burst() -> list[tuple[int, dict[str, str], str]]:
        clients = [client(url, key) for url in urls]
        return await asyncio.gather(*(chat(clients[i % 2]) for i in range(40)))

    results = asyncio.run(burst())
    statuses = [status for status, _, _ in results]
    assert statuses.count(200) == 10, statuses
    assert statuses.count(429) == 30
    refused = next(r for r in results if r[0] == 429)
    _, headers, message = refused
    assert "rpm" in message and "requests per minute" in message
    assert int(headers["retry-after"]) >= 1
    assert headers["x-ratelimit-limit-requests"] == "10"
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert headers["x-ratelimit-reset-requests"].endswith("s")
    admitted = [h for status, h, _ in results if status == 200]
    assert all(h["x-ratelimit-limit-requests"] == "10" for h in admitted)
    assert sorted(int(h["x-ratelimit-remaining-requests"]) for h in admitted)[0] == 0


def test_tpm_exact_with_streams_and_settled_to_real_usage(
    cluster: tuple[dict[str, str], list[str]], tmp_path: Path
) -> None:
    env, urls = cluster
    reserve = _reservation(tmp_path)
    limit = 4 * reserve + reserve // 2
    key = create_key(env, "tpm", "--tpm", str(limit))
    slow = {"fake": {"chunks": 3, "chunk_delay_s": 0.4}}

    async def stream(c: openai.AsyncOpenAI) -> int:
        try:
            response = await c.chat.completions.create(
                model="fake",
                messages=MESSAGES,  # type: ignore[arg-type]
                max_tokens=MAX_TOKENS,
                stream=True,
                extra_body=slow,
            )
        except openai.RateLimitError as exc:
            assert "tpm" in exc.message
            return 429
        async for _ in response:
            pass
        return 200

    async def burst() -> list[int]:
        clients = [client(url, key) for url in urls]
        return await asyncio.gather(*(stream(clients[i % 2]) for i in range(12)))

    statuses = asyncio.run(burst())
    assert statuses.count(200) == 4, statuses
    assert statuses.count(429) == 8
    # The four streams are over and were settled to what they really used (far less
    # than reserved): the next request fits, and the bucket shows the difference.
    settled: list[tuple[int, dict[str, str], str]] = []

    def next_fits() -> bool:
        # (finish() settles right after the last event: allow it a moment.)
        settled.append(run_chat(urls[0], key, max_tokens=MAX_TOKENS))
        return settled[-1][0] == 200

    wait_until(next_fits, timeout=3, interval=0.1)
    _, headers, _ = settled[-1]
    assert int(headers["x-ratelimit-limit-tokens"]) == limit
    assert int(headers["x-ratelimit-remaining-tokens"]) >= limit - reserve - 4 * 20


def test_cancelled_streams_release_their_reservation(
    cluster: tuple[dict[str, str], list[str]], tmp_path: Path
) -> None:
    env, urls = cluster
    reserve = _reservation(tmp_path)
    key = create_key(env, "cancel", "--tpm", str(2 * reserve + reserve // 2))
    body = {
        "model": "fake",
        "messages": MESSAGES,
        "max_tokens": MAX_TOKENS,
        "stream": True,
        "fake": {"chunks": 8, "chunk_delay_s": 0.5},
    }
    headers = {"authorization": f"Bearer {key}"}
    for url in urls:
        # Read the first event, then go away mid-stream.
        with (
            httpx.Client(timeout=10) as http,
            http.stream("POST", f"{url}/v1/chat/completions", json=body, headers=headers) as r,
        ):
            assert r.status_code == 200
            next(r.iter_lines())

    # Both reservations (2 of the 2.5 that fit) must come back once the servers notice.
    def two_fit() -> bool:
        if run_chat(urls[1], key, max_tokens=MAX_TOKENS)[0] != 200:
            return False
        return run_chat(urls[1], key, max_tokens=MAX_TOKENS)[0] == 200

    wait_until(two_fit, timeout=5, interval=0.3)


def test_budget_exhaustion_stops_the_next_request(
    cluster: tuple[dict[str, str], list[str]],
) -> None:
    env, urls = cluster
    # Prices: 1000 USD per million tokens = 0.001 USD a token; the fake bills 11 + 7.
    key = create_key(env, "budget", "--monthly-budget", "0.1")
    statuses = [run_chat(urls[0], key, max_tokens=10) for _ in range(7)]
    codes = [s for s, _, _ in statuses]
    # Reservation 0.001 * (prompt + 10); each admitted request then costs 0.018.
    assert codes[:5] == [200] * 5, codes
    assert codes[5:] == [429, 429]
    assert "monthly_budget" in statuses[5][2]


def test_huge_max_tokens_is_capped_not_reserved(
    cluster: tuple[dict[str, str], list[str]],
) -> None:
    env, urls = cluster
    key = create_key(env, "cap", "--tpm", "40000")
    # Above [limits] max_tokens (16384), below what the gateway refuses outright.
    status, headers, _ = run_chat(urls[0], key, max_tokens=500_000)
    assert status == 200
    # Reserved (and sent upstream) as 16384, not 500k.
    assert int(headers["x-ratelimit-remaining-tokens"]) >= 40000 - 16384 - 50


def test_max_parallel_exact_across_two_processes(
    cluster: tuple[dict[str, str], list[str]],
) -> None:
    env, urls = cluster
    key = create_key(env, "parallel", "--max-parallel", "3")
    slow = {"fake": {"latency_s": 1.0}}

    async def burst() -> list[tuple[int, dict[str, str], str]]:
        clients = [client(url, key) for url in urls]
        return await asyncio.gather(*(chat(clients[i % 2], extra_body=slow) for i in range(12)))

    statuses = [status for status, _, _ in asyncio.run(burst())]
    assert statuses.count(200) == 3, statuses
    assert statuses.count(429) == 9
    # Slots are freed when requests end: three fit again at once.
    again = [status for status, _, _ in asyncio.run(burst())]
    assert again.count(200) == 3, again


def test_keys_create_rejects_bad_limits(cluster: tuple[dict[str, str], list[str]]) -> None:
    from tests.processes import run_cli

    env, _ = cluster
    result = run_cli(["keys", "create", "--name", "bad", "--rpm", "-5"], env)
    assert result.returncode == 2
    assert "--rpm" in result.stderr and ">= 0" in result.stderr
