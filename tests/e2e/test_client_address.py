"""Behind a reverse proxy: the client's address recorded (inference logs, audit) is the
one X-Forwarded-For names when the peer is a trusted proxy, and the peer's otherwise."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.e2e.fake_upstream import FakeUpstream
from tests.e2e.limits_cluster import create_key, serving, write_config
from tests.processes import free_port, inferia_env, wait_until

pytestmark = pytest.mark.e2e


def _addresses(database: Path, table: str) -> list[str | None]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute(f"SELECT client_address FROM {table} ORDER BY rowid")
        return [row[0] for row in rows]


@pytest.mark.parametrize("trusted", [True, False])
def test_forwarded_clients_are_believed_from_trusted_proxies_only(
    tmp_path: Path, trusted: bool
) -> None:
    upstream = FakeUpstream([free_port()]).start()
    proxies = '\n[server]\ntrusted_proxies = ["127.0.0.0/8"]\n' if trusted else ""
    config = write_config(tmp_path / "inferia.toml", upstream.url(), proxies)
    env = inferia_env(tmp_path, INFERIA_CONFIG=str(config))
    database = tmp_path / "inferia.sqlite3"
    expected = "203.0.113.9" if trusted else "127.0.0.1"
    try:
        with serving(env) as server:
            key = create_key(env, "proxied")
            chat = httpx.post(
                f"{server.base_url}/v1/chat/completions",
                headers={"authorization": f"Bearer {key}", "x-forwarded-for": "203.0.113.9"},
                json={"model": "fake", "messages": [{"role": "user", "content": "hi"}]},
            )
            assert chat.status_code == 200, chat.text
            wait_until(lambda: _addresses(database, "inference_logs") == [expected], timeout=10)
            # Litestar's routes (the same entry): a failed login is audited.
            login = httpx.post(
                f"{server.base_url}/auth/login",
                headers={"x-forwarded-for": "203.0.113.9"},
                json={"email": "nobody@example.com", "password": "wrong password 123"},
            )
            assert login.status_code == 401
            assert expected in _addresses(database, "audit_logs")
    finally:
        upstream.stop()
