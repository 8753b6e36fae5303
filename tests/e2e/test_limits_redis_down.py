"""Redis unreachable: fail_closed answers 503, fail_open admits and says so; never local counters.

Both servers reach Redis through a TCP relay the test cuts: every connection drops and
new ones are refused, as when Redis goes down.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import httpx
import pytest

from tests.e2e.fake_upstream import FakeUpstream
from tests.e2e.limits_cluster import (
    ScratchPostgres,
    TcpProxy,
    create_key,
    fresh_redis,
    run_chat,
    serving,
    write_config,
)
from tests.processes import InferiaServer, free_port, inferia_env, wait_until
from tests.services import REDIS_URL, redis_db

pytestmark = pytest.mark.e2e
REDIS_DB = 2  # a slot: INFERIA_TEST_REDIS_URL's database + 2 (tests/services.py)


class Setup(NamedTuple):
    proxy: TcpProxy
    closed: InferiaServer
    open: InferiaServer
    limited_key: str
    budget_key: str
    free_key: str


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    from urllib.parse import urlsplit

    fresh_redis(REDIS_DB)
    proxy = TcpProxy(urlsplit(REDIS_URL).port or 6379).start()
    upstream = FakeUpstream([free_port()]).start()
    data_dir = tmp_path_factory.mktemp("redis-down")
    config = write_config(data_dir / "inferia.toml", upstream.url())
    try:
        with ScratchPostgres() as database_url:
            env = inferia_env(
                data_dir,
                INFERIA_CONFIG=str(config),
                INFERIA_DATABASE__URL=database_url,
                INFERIA_STATE__URL=f"redis://127.0.0.1:{proxy.port}/{redis_db(REDIS_DB)}",
                INFERIA_DATABASE__MIGRATE_ON_START="true",
                INFERIA_ADMIN_PASSWORD="limits admin password",
            )
            open_env = {**env, "INFERIA_LIMITS__ON_STATE_ERROR": "fail_open"}
            with serving(env) as closed, serving(open_env) as opened:
                yield Setup(
                    proxy,
                    closed,
                    opened,
                    create_key(env, "limited", "--rpm", "1000"),
                    create_key(env, "budget", "--monthly-budget", "10"),
                    create_key(env, "free"),
                )
    finally:
        proxy.cut()
        upstream.stop()


def test_both_modes_while_redis_is_down(setup: Setup) -> None:
    servers = (setup.closed, setup.open)
    keys = (setup.limited_key, setup.budget_key, setup.free_key)
    # Warm up: keys and policy snapshots are cached; limits are charged in Redis.
    for server in servers:
        for key in keys:
            status, headers, _ = run_chat(server.base_url, key)
            assert status == 200
    assert headers.get("x-ratelimit-limit-requests") is None  # the free key has no limit

    setup.proxy.cut()

    # fail_closed (the default): limited requests get 503, never a local count.
    status, _, message = run_chat(setup.closed.base_url, setup.limited_key)
    assert status == 503
    assert "rate limiting is unavailable" in message
    # fail_open: admitted, counted and logged.
    status, headers, _ = run_chat(setup.open.base_url, setup.limited_key)
    assert status == 200
    assert "x-ratelimit-remaining-requests" not in headers
    wait_until(lambda: "admitting without limits (fail_open)" in setup.open.output, timeout=5)
    scraped = httpx.get(f"{setup.open.base_url}/metrics").text
    assert "inferia_admission_unchecked_total 1.0" in scraped.splitlines()
    # Budgets stay fail_closed even on the fail_open server.
    status, _, message = run_chat(setup.open.base_url, setup.budget_key)
    assert status == 503
    # A key no limit applies to needs no state call: served on both.
    for server in servers:
        assert run_chat(server.base_url, setup.free_key)[0] == 200

    setup.proxy.start()  # Redis is back on the same port
    wait_until(lambda: run_chat(setup.closed.base_url, setup.limited_key)[0] == 200, timeout=10)
    status, headers, _ = run_chat(setup.open.base_url, setup.limited_key)
    assert status == 200 and headers["x-ratelimit-limit-requests"] == "1000"
