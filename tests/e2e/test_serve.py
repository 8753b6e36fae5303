"""The real ``inferia serve``: first start, health, readiness, request ids, errors."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import httpx
import pytest

from tests.conftest import BackendPair
from tests.processes import (
    InferiaServer,
    child_processes,
    free_port,
    inferia_env,
    run_cli,
    wait_until,
)

pytestmark = pytest.mark.e2e


def test_first_start_prints_admin_once_and_serves_every_plane(tmp_path: Path) -> None:
    env = inferia_env(tmp_path)
    with InferiaServer(env) as server:
        assert httpx.get(f"{server.base_url}/health").json()["status"] == "ok"
        ready = httpx.get(f"{server.base_url}/ready")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"state": "ok", "database": "ok"}
        assert "email:    admin@localhost" in server.output
        assert "password: " in server.output
        assert httpx.get(f"{server.base_url}/dashboard/").status_code == 200
        # Every plane's paths are mounted on the one port.
        assert httpx.get(f"{server.base_url}/v1/models").status_code == 401
        assert httpx.post(f"{server.base_url}/internal/principals/resolve").status_code == 401
    assert (tmp_path / "inferia.sqlite3").exists()
    # A second start finds the admin and prints no password.
    with InferiaServer(env) as again:
        assert httpx.get(f"{again.base_url}/ready").status_code == 200
        assert "password: " not in again.output


def test_admin_credentials_from_environment(tmp_path: Path) -> None:
    env = inferia_env(
        tmp_path,
        INFERIA_ADMIN_EMAIL="ops@example.com",
        INFERIA_ADMIN_PASSWORD="correct horse battery",
    )
    with InferiaServer(env) as server:
        assert "email:    ops@example.com" in server.output
        assert "correct horse battery" not in server.output


def test_serve_on_each_backend_pair(backend_pair: BackendPair) -> None:
    env = inferia_env(backend_pair.data_dir, **backend_pair.env())
    with InferiaServer(env) as server:
        ready = httpx.get(f"{server.base_url}/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"state": "ok", "database": "ok"}


def test_request_id_is_echoed_or_generated(tmp_path: Path) -> None:
    with InferiaServer(inferia_env(tmp_path)) as server:
        mine = httpx.get(f"{server.base_url}/health", headers={"x-request-id": "req-42"})
        assert mine.headers["x-request-id"] == "req-42"
        generated = httpx.get(f"{server.base_url}/health").headers["x-request-id"]
        assert len(generated) == 24
        hostile = httpx.get(f"{server.base_url}/health", headers={"x-request-id": "a b\tc" * 50})
        assert hostile.headers["x-request-id"] != "a b\tc" * 50


def test_errors_use_one_json_envelope(tmp_path: Path) -> None:
    with InferiaServer(inferia_env(tmp_path)) as server:
        missing = httpx.get(f"{server.base_url}/no/such/path")
        assert missing.status_code == 404
        assert missing.json()["error"]["type"] == "not_found_error"
        bad = httpx.post(
            f"{server.base_url}/internal/principals/resolve",
            content=b"{not json",
            headers={"x-inferia-internal-token": "wrong"},
        )
        assert bad.status_code == 401
        assert bad.json()["error"]["code"] == "unauthenticated"


def test_unknown_setting_stops_start_up(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[server]\nhost = '127.0.0.1'\nprot = 9000\n")
    result = run_cli(["serve", "--config", str(config)], inferia_env(tmp_path))
    assert result.returncode == 2
    assert "unknown setting 'server.prot'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_guardrails_typo_stops_start_up_before_listening(tmp_path: Path) -> None:
    config = tmp_path / "inferia.toml"
    config.write_text('[guardrails]\ninput = [{ scanner = "piii", action = "redact" }]\n')
    env = inferia_env(tmp_path, INFERIA_SERVER__GRPC_PORT=str(free_port()))
    shown = run_cli(["config", "show", "--config", str(config)], env)
    assert shown.returncode == 2 and "unknown guardrail scanner 'piii'" in shown.stderr
    result = run_cli(["serve", "--port", str(free_port()), "--config", str(config)], env)
    assert result.returncode == 2
    assert "unknown guardrail scanner 'piii'" in result.stderr
    assert "Listening at" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_wrong_type_in_environment_stops_start_up(tmp_path: Path) -> None:
    result = run_cli(["serve"], inferia_env(tmp_path, INFERIA_SERVER__WORKERS="many"))
    assert result.returncode == 2
    assert "'server.workers'" in result.stderr
    # Said to come from where it came from, not from inferia.toml.
    assert "environment variable INFERIA_SERVER__WORKERS" in result.stderr
    assert "inferia.toml" not in result.stderr


def test_several_workers_need_a_shared_state_backend(tmp_path: Path) -> None:
    result = run_cli(["serve", "--workers", "2"], inferia_env(tmp_path))
    assert result.returncode == 2
    assert "state.url" in result.stderr and "multiply" in result.stderr


def test_config_show_masks_secrets(tmp_path: Path) -> None:
    config = tmp_path / "inferia.toml"
    config.write_text(
        "[[models]]\n"
        'name = "azure"\n'
        'base_url = "https://svc-user:url-pw-7@example.openai.azure.com/v1?api-key=q-secret"\n'
        'headers = { "api-key" = "azure-secret-1", "x-request-source" = "inferia" }\n'
    )
    env = inferia_env(
        tmp_path,
        INFERIA_CONFIG=str(config),
        INFERIA_SECURITY__INTERNAL_TOKEN="super-secret-token",
        INFERIA_DATABASE__URL="postgresql://u:pw-123@db/x",
        INFERIA_STATE__URL="redis://:redis-pw-9@127.0.0.1:6379/0",
    )
    result = run_cli(["config", "show"], env)
    assert result.returncode == 0, result.stderr
    for secret in (
        "super-secret-token",
        "pw-123",
        "redis-pw-9",
        "url-pw-7",
        "q-secret",
        "azure-secret-1",
    ):
        assert secret not in result.stdout, secret
    assert '"internal_token": "********"' in result.stdout
    # What is not a secret stays readable.
    assert "redis://:********@127.0.0.1:6379/0" in result.stdout
    assert '"x-request-source": "inferia"' in result.stdout


def test_sigterm_stops_the_server_cleanly(tmp_path: Path) -> None:
    server = InferiaServer(inferia_env(tmp_path)).start()
    assert server.stop() == 0


@pytest.mark.parametrize("backend_pair", ["postgres+redis"], indirect=True)
def test_several_workers_share_postgres_and_redis(backend_pair: BackendPair) -> None:
    env = inferia_env(backend_pair.data_dir, **backend_pair.env())
    with InferiaServer(env, ["--workers", "2"]) as server:
        for _ in range(10):
            assert httpx.get(f"{server.base_url}/ready").status_code == 200
        # granian logs "Started worker-N", then "Started worker-N runtime-M" per runtime.
        assert len(re.findall(r"Started worker-\d+$", server.output, re.MULTILINE)) == 2


def test_admin_create_user_cli(tmp_path: Path) -> None:
    env = inferia_env(tmp_path, INFERIA_ADMIN_PASSWORD="first admin password")
    assert run_cli(["migrate"], env).returncode == 0
    created = run_cli(
        ["admin", "create-user", "--email", "Dev@Example.com", "--password", "a long password!"],
        env,
    )
    assert created.returncode == 0, created.stderr
    assert "dev@example.com" in created.stdout
    duplicate = run_cli(
        ["admin", "create-user", "--email", "dev@example.com", "--password", "a long password!"],
        env,
    )
    assert duplicate.returncode == 2 and "already" in duplicate.stderr.lower()
    weak = run_cli(["admin", "create-user", "--email", "x@example.com", "--password", "short"], env)
    assert weak.returncode == 2 and "password" in weak.stderr.lower()
    assert "Traceback" not in weak.stderr + duplicate.stderr


def test_a_second_server_on_a_busy_port_stops_with_a_clear_error(tmp_path: Path) -> None:
    with InferiaServer(inferia_env(tmp_path / "first")) as first:
        second = run_cli(
            ["serve", "--port", str(first.port)],
            inferia_env(tmp_path / "second", INFERIA_SERVER__GRPC_PORT=str(free_port())),
        )
        assert second.returncode == 2
        assert f"cannot listen on 127.0.0.1:{first.port}" in second.stderr
        assert "Traceback" not in second.stderr
        # The first server still answers every request: nothing shares its port.
        for _ in range(8):
            assert httpx.get(f"{first.base_url}/health").status_code == 200


def test_a_killed_worker_is_respawned_and_the_server_keeps_serving(
    backend_pair: BackendPair,
) -> None:
    _kill_a_worker_and_recover(backend_pair, workers=1)


@pytest.mark.parametrize("backend_pair", ["postgres+redis"], indirect=True)
def test_with_two_workers_a_killed_one_is_respawned(backend_pair: BackendPair) -> None:
    _kill_a_worker_and_recover(backend_pair, workers=2)


def _kill_a_worker_and_recover(backend_pair: BackendPair, workers: int) -> None:
    env = inferia_env(backend_pair.data_dir, **backend_pair.env())
    with InferiaServer(env, ["--workers", str(workers)]) as server:
        assert server.process is not None
        supervisor = server.process.pid
        wait_until(lambda: len(child_processes(supervisor)) == workers)
        victim = child_processes(supervisor)[0]
        os.kill(victim, signal.SIGKILL)
        # The supervisor stays up and a new worker takes the dead one's place.
        wait_until(
            lambda: (
                "Respawning worker" in server.output
                and len(child_processes(supervisor)) == workers
                and victim not in child_processes(supervisor)
            ),
            timeout=20,
        )
        assert server.process.poll() is None
        wait_until(lambda: _healthy(server.base_url), timeout=20)
        for _ in range(10):
            assert httpx.get(f"{server.base_url}/ready").status_code == 200


def _healthy(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
