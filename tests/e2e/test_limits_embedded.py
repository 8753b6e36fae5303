"""The embedded default (SQLite + in-memory state): the same limits and usage, one process."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.e2e.fake_upstream import FakeUpstream
from tests.e2e.limits_cluster import create_key, run_chat, serving, write_config
from tests.processes import free_port, inferia_env, wait_until

pytestmark = pytest.mark.e2e


def _usage_rows(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        return int(connection.execute("SELECT count(*) FROM usage_records").fetchone()[0])


def test_limits_and_usage_on_sqlite_and_memory(tmp_path: Path) -> None:
    upstream = FakeUpstream([free_port()]).start()
    config = write_config(tmp_path / "inferia.toml", upstream.url())
    env = inferia_env(
        tmp_path, INFERIA_CONFIG=str(config), INFERIA_ADMIN_PASSWORD="embedded admin password"
    )
    try:
        with serving(env) as server:
            key = create_key(env, "embedded", "--rpm", "3", "--tpm", "100000")
            results = [run_chat(server.base_url, key) for _ in range(4)]
            assert [status for status, _, _ in results] == [200, 200, 200, 429]
            assert results[0][1]["x-ratelimit-limit-tokens"] == "100000"
            assert "rpm" in results[3][2]
            wait_until(lambda: _usage_rows(tmp_path / "inferia.sqlite3") == 4, timeout=10)
    finally:
        upstream.stop()
