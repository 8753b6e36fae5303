"""Smaller things a new user met in the first hour (issue 16, item 12), as they met them:
the CLI as a subprocess, a real ``inferia serve --demo``, plain HTTP."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import openai
import pytest

import inferia
from tests.e2e.gateway_fixtures import write_config
from tests.identity_support import ADMIN_EMAIL, ADMIN_PASSWORD, admin_env
from tests.processes import InferiaServer, free_port, inferia_env, run_cli, wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {
        **admin_env(tmp_path_factory.mktemp("small-fixes")),
        "INFERIA_USAGE__FLUSH_INTERVAL_MS": "50",
    }


@pytest.fixture(scope="module")
def server(env: dict[str, str]) -> Iterator[InferiaServer]:
    with InferiaServer(env, ["--demo"]) as running:
        yield running


def admin_headers(server: InferiaServer) -> dict[str, str]:
    token = httpx.post(
        f"{server.base_url}/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    ).json()["access_token"]
    return {"authorization": f"Bearer {token}"}


def test_version() -> None:
    result = run_cli(["--version"], inferia_env(Path("/nonexistent")))
    assert result.returncode == 0 and result.stdout.strip() == f"inferia {inferia.__version__}"


def test_grpc_port_equal_to_the_http_port_is_refused(tmp_path: Path) -> None:
    port = free_port()
    result = run_cli(
        ["serve", "--port", str(port)], inferia_env(tmp_path, INFERIA_SERVER__GRPC_PORT=str(port))
    )
    assert result.returncode == 2
    assert "server.grpc_port" in result.stderr and "Traceback" not in result.stderr


def test_metrics_content_type_names_its_charset_once(server: InferiaServer) -> None:
    reply = httpx.get(f"{server.base_url}/metrics")
    assert reply.status_code == 200
    assert reply.headers["content-type"].count("charset") == 1


def test_unknown_role_lists_the_roles(server: InferiaServer, env: dict[str, str]) -> None:
    new_user = ["--email", "dev@example.com", "--password", "long enough pw!"]
    result = run_cli(["admin", "create-user", *new_user, "--role", "developer"], env)
    assert result.returncode == 2
    assert "'developer' not found" in result.stderr
    assert all(role in result.stderr for role in ("owner", "admin", "member", "viewer"))


def test_usage_buckets_are_iso_8601_timestamps(server: InferiaServer, env: dict[str, str]) -> None:
    key = run_cli(["keys", "create", "--name", "usage"], env).stdout.strip()
    sdk = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=key, max_retries=0)
    sdk.chat.completions.create(model="demo-echo", messages=[{"role": "user", "content": "Hi"}])
    headers = admin_headers(server)

    def rows() -> list[dict[str, object]]:
        report = httpx.get(
            f"{server.base_url}/management/usage", params={"bucket": "hour"}, headers=headers
        ).json()
        return list(report["data"])

    wait_until(rows, timeout=10)
    bucket = str(rows()[0]["bucket"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:00:00Z", bucket), bucket
    assert datetime.fromisoformat(bucket).minute == 0


def test_no_misleading_database_engine_line(server: InferiaServer) -> None:
    # piccolo logged "Running Sqlite version 3.4" in every process, on PostgreSQL too.
    assert "Started worker" in server.output or "Listening at" in server.output
    assert "Running Sqlite" not in server.output


def test_an_unset_api_key_env_is_warned_about(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "inferia.toml",
        [{"name": "m", "base_url": "http://127.0.0.1:9/v1", "api_key_env": "NO_SUCH_KEY_VAR"}],
    )
    env = inferia_env(tmp_path / "data", INFERIA_CONFIG=str(config))
    env.pop("NO_SUCH_KEY_VAR", None)
    with InferiaServer(env) as running:
        assert "api_key_env names NO_SUCH_KEY_VAR, which is not set" in running.output


def test_json_logging_covers_granian_and_the_access_log(tmp_path: Path) -> None:
    env = inferia_env(
        tmp_path / "data", INFERIA_LOGGING__FORMAT="json", INFERIA_LOGGING__ACCESS_LOG="true"
    )
    with InferiaServer(env) as running:
        httpx.get(f"{running.base_url}/health")
        wait_until(lambda: "/health" in running.output, timeout=10)
        output = running.output
    # granian's supervisor and its access log wrote plain text among the JSON lines.
    for line in output.splitlines():
        if "Listening at" in line or "Started worker" in line or "/health" in line:
            assert json.loads(line)["message"], line
    assert "Listening at" in output and "[INFO]" not in output
