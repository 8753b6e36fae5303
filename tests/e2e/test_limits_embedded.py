"""The embedded default (SQLite + in-memory state): the same limits and usage, one process."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest
import tiktoken

from inferia.inference.tokens import install_encodings
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


def test_a_large_prompt_is_counted_against_the_token_limit(tmp_path: Path) -> None:
    """600 KB of prompt: counted exactly (off the event loop) and reserved at admission."""
    install_encodings(tmp_path / "tiktoken")
    prompt = "lorem ipsum " * 50_000  # under the fake upstream's 1 MB body limit
    encoding = tiktoken.get_encoding("cl100k_base")  # the model "fake" is no gpt-4o
    expected = 3 + 3 + len(encoding.encode_ordinary(prompt)) + len(encoding.encode("user"))
    upstream = FakeUpstream([free_port()]).start()
    # Guardrails off: they refuse prompts over guardrails.max_scan_chars (200,000).
    no_guardrails = "\n[guardrails]\ninput = []\noutput = []\n"
    config = write_config(tmp_path / "inferia.toml", upstream.url(), no_guardrails)
    env = inferia_env(tmp_path, INFERIA_CONFIG=str(config))
    try:
        with serving(env) as server:
            key = create_key(env, "big", "--tpm", "10000000")
            reply = httpx.post(
                f"{server.base_url}/v1/chat/completions",
                headers={"authorization": f"Bearer {key}"},
                json={
                    "model": "fake",
                    "max_tokens": 5,
                    "messages": [{"role": "user", "content": prompt}],
                },
                timeout=60,
            )
            assert reply.status_code == 200, reply.text
            reserved = 10_000_000 - int(reply.headers["x-ratelimit-remaining-tokens"])
            assert reserved == expected + 5  # the prompt's tokens and max_tokens
    finally:
        upstream.stop()
