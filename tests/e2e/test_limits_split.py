"""Split mode: an inference-only process reads policies over /internal/policies, charges
limits in the shared Redis, and its usage events reach the filtration plane's database."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.fake_upstream import FakeUpstream
from tests.e2e.limits_cluster import (
    ScratchPostgres,
    create_key,
    fresh_redis,
    run_chat,
    serving,
    usage_rows,
    write_config,
)
from tests.processes import free_port, inferia_env, wait_until

pytestmark = pytest.mark.e2e
REDIS_DB = 6  # a slot: INFERIA_TEST_REDIS_URL's database + 6 (tests/services.py)


def test_limits_and_usage_across_split_planes(tmp_path: Path) -> None:
    upstream = FakeUpstream([free_port()]).start()
    config = write_config(tmp_path / "inferia.toml", upstream.url())
    filtration_port = free_port()
    try:
        with ScratchPostgres() as database_url:
            env = inferia_env(
                tmp_path,
                INFERIA_CONFIG=str(config),
                INFERIA_DATABASE__URL=database_url,
                INFERIA_STATE__URL=fresh_redis(REDIS_DB),
                INFERIA_DATABASE__MIGRATE_ON_START="true",
                INFERIA_ADMIN_PASSWORD="split admin password",
                INFERIA_REMOTE__FILTRATION_URL=f"http://127.0.0.1:{filtration_port}",
            )
            with (
                serving(env, ["--plane", "filtration"], port=filtration_port),
                serving(env, ["--plane", "inference"]) as inference,
            ):
                # The port refuses callers without the internal service credential.
                denied = httpx.get(f"http://127.0.0.1:{filtration_port}/internal/policies/x")
                assert denied.status_code == 401
                key = create_key(env, "split", "--rpm", "3")
                statuses = [run_chat(inference.base_url, key)[0] for _ in range(5)]
                assert statuses == [200, 200, 200, 429, 429]
                wait_until(lambda: usage_rows(database_url) == 5, timeout=10)
    finally:
        upstream.stop()
