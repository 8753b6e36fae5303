"""``inferia pools|models|deploy|deployments|nodes`` against a real ``inferia serve``:
what a script sees (JSON on stdout, exit status 2 and the API's message on errors)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.orchestration_support import TINY_SERVER, serving
from tests.identity_support import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.processes import InferiaServer, run_cli

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InferiaServer]:
    yield from serving(tmp_path_factory.mktemp("cli"))


@pytest.fixture(scope="module")
def env(server: InferiaServer) -> dict[str, str]:
    return {
        **server.env,
        "INFERIA_URL": server.base_url,
        "INFERIA_EMAIL": ADMIN_EMAIL,
        "INFERIA_PASSWORD": ADMIN_PASSWORD,
    }


def ctl(env: dict[str, str], *args: str) -> Any:
    result = run_cli(list(args), env)
    assert result.returncode == 0, result.stderr
    try:
        return json.loads(result.stdout)
    except ValueError:  # logs are text
        return result.stdout


def test_a_script_deploys_scales_and_terminates(env: dict[str, str]) -> None:
    pool = ctl(env, "pools", "create", "cli-pool", "--config", '{"max_replicas": 2}')
    assert pool["provider"] == "local"
    assert [p["name"] for p in ctl(env, "pools", "list")] == ["cli-pool"]
    assert ctl(env, "pools", "get", pool["id"])["id"] == pool["id"]
    command = "{python} {model_path} --port {port} --api-key {api_key} --name {served_name}"
    ctl(
        env,
        "models",
        "register",
        "cli-chat",
        "1",
        "--artifact-uri",
        f"file://{TINY_SERVER}",
        "--engine",
        "openai-compatible",
        "--command",
        command,
    )
    assert [m["name"] for m in ctl(env, "models", "list")] == ["cli-chat"]
    deployment = ctl(env, "deploy", "cli-chat", "1", "--pool", pool["id"])
    assert deployment["state"] == "PENDING"
    deadline = time.monotonic() + 30
    while ctl(env, "deployments", "status", deployment["id"])["state"] != "RUNNING":
        assert time.monotonic() < deadline, "not RUNNING in time"
        time.sleep(0.3)
    scaled = ctl(env, "deployments", "scale", deployment["id"], "2")
    assert scaled["replicas"]["desired"] == 2
    assert [d["id"] for d in ctl(env, "deployments", "list")] == [deployment["id"]]
    assert "--- starting" in ctl(env, "deployments", "logs", deployment["id"], "--tail", "50")
    ctl(env, "deployments", "terminate", deployment["id"])
    events = ctl(env, "deployments", "events", deployment["id"])
    assert "TERMINATING" in [e["to"] for e in events]


def test_errors_exit_2_with_the_api_message(env: dict[str, str]) -> None:
    missing = run_cli(["deployments", "status", "00000000-0000-0000-0000-000000000000"], env)
    assert missing.returncode == 2
    assert "404" in missing.stderr and "not found" in missing.stderr
    bad = run_cli(["pools", "create", "x", "--provider", "nosuch"], env)
    assert bad.returncode == 2 and "no compute adapter named 'nosuch'" in bad.stderr
    anonymous = {k: v for k, v in env.items() if k not in ("INFERIA_EMAIL", "INFERIA_PASSWORD")}
    refused = run_cli(["deployments", "list"], anonymous)
    assert refused.returncode == 2 and "no credentials" in refused.stderr
    wrong = run_cli(["deployments", "list", "--token", "nope"], anonymous)
    assert wrong.returncode == 2 and "401" in wrong.stderr
    unreachable = run_cli(["pools", "list", "--url", "http://127.0.0.1:9"], env)
    assert unreachable.returncode == 2 and "cannot reach" in unreachable.stderr


def test_nodes_register_list_delete(env: dict[str, str]) -> None:
    pool = ctl(env, "pools", "create", "cli-nodes")
    registered = ctl(env, "nodes", "register", "--pool", pool["id"], "--instance-id", "vm-1")
    assert registered["token"].startswith("inode_")
    listed = ctl(env, "nodes", "list", "--pool", pool["id"])
    assert [n["provider_instance_id"] for n in listed] == ["vm-1"]
    assert ctl(env, "nodes", "delete", registered["node"]["id"]) == ""
    assert ctl(env, "nodes", "list", "--pool", pool["id"]) == []
