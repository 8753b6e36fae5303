"""The control plane over REST with a real ``inferia serve``: pools, registry, deployments
reconciled into model-server processes (the ``local`` adapter running a small
OpenAI-compatible server), routed by the gateway, scaled, crashed, terminated."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.conftest import BACKEND_PAIRS
from tests.e2e.gateway_fixtures import client, create_key
from tests.e2e.orchestration_support import (
    TINY_SERVER,
    ControlClient,
    admin,
    backend_env,
    orchestration_env,
    wait_for,
)
from tests.processes import InferiaServer, run_cli

pytestmark = pytest.mark.e2e
PASSWORD = "another long password"


def tiny_model(name: str, version: str = "1", *extra: str) -> dict[str, Any]:
    return {
        "name": name,
        "version": version,
        "artifact_uri": f"file://{TINY_SERVER}",
        "engine": "openai-compatible",
        "command": [
            "{python}",
            "{model_path}",
            *("--port", "{port}", "--api-key", "{api_key}", "--name", "{served_name}"),
            *extra,
        ],
    }


def server_pids(marker: str) -> list[int]:
    """Model-server processes whose command line contains ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if TINY_SERVER in cmdline and marker in cmdline:
            found.append(int(entry.name))
    return found


@pytest.fixture(scope="module", params=BACKEND_PAIRS)
def server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[InferiaServer]:
    data = tmp_path_factory.mktemp("control")
    with backend_env(request.param) as backends:
        running = InferiaServer(orchestration_env(data, **backends))
        try:
            # Generous: the shared CI machine may be busy compiling.
            yield running.start(timeout=120)
        finally:
            running.__exit__()


@pytest.fixture(scope="module")
def user(server: InferiaServer) -> ControlClient:
    return admin(server)


def models_seen(server: InferiaServer, key: str) -> list[str]:
    reply = httpx.get(f"{server.base_url}/v1/models", headers={"authorization": f"Bearer {key}"})
    return [m["id"] for m in reply.json()["data"]]


def test_deploy_route_scale_crash_terminate(server: InferiaServer, user: ControlClient) -> None:
    pool = user.create_pool("tiny", config={"max_replicas": 3})
    assert pool["owner_id"] == user.organization_id
    listed = user.call("GET", f"/deployment/listPools/{user.organization_id}").json()["data"]
    assert [p["name"] for p in listed] == ["tiny"]
    reply = user.call("POST", "/deployment/registerModel", json=tiny_model("tiny-chat"))
    assert reply.status_code == 201, reply.text
    reply = user.call(
        "POST",
        "/deployment/deploy",
        json={"model": "tiny-chat", "version": "1", "pool_id": pool["id"]},
    )
    assert reply.status_code == 202, reply.text
    deployment = reply.json()
    assert deployment["state"] == "PENDING"
    key = create_key(server.env)
    status = user.wait_state(deployment["id"], "RUNNING", timeout=20)
    assert status["replicas"] == {"desired": 1, "ready": 1}
    assert [e["to"] for e in status["events"]][:2] == ["PENDING", "PROVISIONING"]
    wait_for(lambda: "tiny-chat" in models_seen(server, key), 2, "model routed")
    sdk = client(server, key)
    # The model server refuses anything but its generated key: the gateway presented it.
    answer = sdk.chat.completions.create(
        model="tiny-chat", messages=[{"role": "user", "content": "hi"}]
    )
    assert answer.choices[0].message.content.startswith("pid ")

    # Scale to 2: requests reach both servers.
    reply = user.call("POST", f"/deployment/scale/{deployment['id']}", json={"replicas": 2})
    assert reply.status_code == 202, reply.text
    wait_for(lambda: user.status(deployment["id"])["replicas"]["ready"] == 2, 20, "2 ready")
    assert user.status(deployment["id"])["state"] == "RUNNING"
    pids = set()
    wait_for(lambda: (pids.add(_completion(sdk)), len(pids) == 2)[1], 5, "both replicas answer")

    # SIGKILL one server: DEGRADED, restarted, RUNNING; clients see no 5xx meanwhile.
    victim = int(next(iter(pids)).removeprefix("pid "))
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: user.status(deployment["id"])["state"] == "DEGRADED", 5, "degraded")
    for _ in range(20):
        _completion(sdk)
    user.wait_state(deployment["id"], "RUNNING", timeout=20)
    events = user.call("GET", f"/deployment/events/{deployment['id']}").json()["data"]
    assert [e["to"] for e in events][-3:] == ["RUNNING", "DEGRADED", "RUNNING"]
    logs = user.call("GET", f"/deployment/logs/{deployment['id']}", params={"tail": 50})
    assert logs.status_code == 200 and "--- starting" in logs.text

    # Terminate: out of /v1/models within 2 s, no process left.
    marker = status["endpoints"][0].rsplit(":", 1)[1].split("/")[0]
    assert server_pids(marker)
    reply = user.call("POST", f"/deployment/terminate/{deployment['id']}")
    assert reply.status_code == 202, reply.text
    took = wait_for(lambda: "tiny-chat" not in models_seen(server, key), 2, "unrouted")
    print(f"left /v1/models after {took:.2f} s")
    user.wait_state(deployment["id"], "TERMINATED", timeout=10)
    assert server_pids("tiny-chat") == []
    # In use by a terminated deployment only: the pool and model can go.
    assert user.call("DELETE", "/deployment/deleteModel/tiny-chat/1").status_code == 204


def _completion(sdk: openai.OpenAI) -> str:
    answer = sdk.chat.completions.create(
        model="tiny-chat", messages=[{"role": "user", "content": "hi"}]
    )
    return str(answer.choices[0].message.content)


def test_a_server_that_never_becomes_ready_fails_the_deployment(user: ControlClient) -> None:
    pool = user.create_pool("slow")
    user.call("POST", "/deployment/registerModel", json=tiny_model("slow", "1", "--never-ready"))
    deployment = user.call(
        "POST", "/deployment/deploy", json={"model": "slow", "version": "1", "pool_id": pool["id"]}
    ).json()
    status = user.wait_state(deployment["id"], "FAILED", timeout=20)
    assert "not ready within 8 s" in status["error"]
    assert server_pids("--never-ready") == []


def test_a_server_that_exits_at_once_fails_the_deployment(user: ControlClient) -> None:
    pool = user.create_pool("crashy")
    model = tiny_model("crashy")
    model["command"] = ["{python}", "-c", "raise SystemExit(3)"]
    user.call("POST", "/deployment/registerModel", json=model)
    deployment = user.call(
        "POST",
        "/deployment/deploy",
        json={"model": "crashy", "version": "1", "pool_id": pool["id"]},
    ).json()
    status = user.wait_state(deployment["id"], "FAILED", timeout=20)
    assert "exited with code 3" in status["error"]


def test_bad_input_gets_clear_errors(user: ControlClient) -> None:
    def error(reply: httpx.Response, status: int) -> str:
        assert reply.status_code == status, reply.text
        return str(reply.json()["error"]["message"])

    post = lambda path, body: user.call("POST", path, json=body)  # noqa: E731
    assert "no compute adapter named 'nosuch'" in error(
        post("/deployment/createpool", {"name": "x", "provider": "nosuch"}), 422
    )
    assert "max_replicas" in error(
        post(
            "/deployment/createpool",
            {"name": "x", "provider": "local", "config": {"max_replicas": 0}},
        ),
        422,
    )
    pool = user.create_pool("bad-input", config={"max_replicas": 2})
    assert error(post("/deployment/createpool", {"name": "bad-input", "provider": "local"}), 409)
    missing = {**tiny_model("ghost"), "artifact_uri": "file:///nonexistent/model.gguf"}
    assert post("/deployment/registerModel", missing).status_code == 201
    assert "does not exist" in error(
        post("/deployment/deploy", {"model": "ghost", "version": "1", "pool_id": pool["id"]}), 422
    )
    post("/deployment/registerModel", tiny_model("many"))
    assert "at most 2 replicas" in error(
        post(
            "/deployment/deploy",
            {"model": "many", "version": "1", "pool_id": pool["id"], "replicas": 3},
        ),
        422,
    )
    assert error(
        post(
            "/deployment/deploy",
            {"model": "many", "version": "1", "pool_id": pool["id"], "replicas": -1},
        ),
        400,
    )
    assert error(
        post("/deployment/deploy", {"model": "nope", "version": "1", "pool_id": pool["id"]}), 404
    )
    assert error(post("/deployment/registerModel", tiny_model("many")), 409)
    assert error(user.call("GET", "/deployment/status/not-a-uuid"), 404)
    assert error(user.call("GET", "/deployment/listPools/someone-else"), 404)
    anonymous = httpx.get(f"{user.server.base_url}/deployment/listModels")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["type"] == "authentication_error"


def test_another_organisation_sees_nothing(server: InferiaServer, user: ControlClient) -> None:
    pool = user.create_pool("private")
    user.call("POST", "/deployment/registerModel", json=tiny_model("private-model"))
    deployment = user.call(
        "POST",
        "/deployment/deploy",
        json={"model": "private-model", "version": "1", "pool_id": pool["id"], "replicas": 0},
    ).json()
    email = "other@example.com"
    for args in (
        ["admin", "create-user", "--email", email, "--password", PASSWORD],
        ["admin", "create-org", "--slug", "other", "--owner", email],
    ):
        result = run_cli(args, server.env)
        assert result.returncode == 0, result.stderr
    other = ControlClient(server, email, PASSWORD)
    login = httpx.post(
        f"{server.base_url}/auth/login",
        json={"email": email, "password": PASSWORD, "organization": "other"},
    )
    other.headers = {"authorization": f"Bearer {login.json()['access_token']}"}
    other.organization_id = login.json()["organization_id"]
    assert other.organization_id != user.organization_id
    for method, path in (
        ("GET", f"/deployment/pool/{pool['id']}"),
        ("DELETE", f"/deployment/pool/{pool['id']}"),
        ("GET", f"/deployment/listPools/{user.organization_id}"),
        ("GET", "/deployment/getModel/private-model/1"),
        ("DELETE", "/deployment/deleteModel/private-model/1"),
        ("GET", f"/deployment/status/{deployment['id']}"),
        ("POST", f"/deployment/terminate/{deployment['id']}"),
        ("GET", f"/deployment/logs/{deployment['id']}"),
        ("GET", f"/deployment/events/{deployment['id']}"),
    ):
        assert other.call(method, path).status_code == 404, (method, path)
    reply = other.call("POST", f"/deployment/scale/{deployment['id']}", json={"replicas": 1})
    assert reply.status_code == 404
    reply = other.call(
        "POST",
        "/deployment/deploy",
        json={"model": "private-model", "version": "1", "pool_id": pool["id"]},
    )
    assert reply.status_code == 404
    assert other.call("GET", "/deployment/deployments").json()["data"] == []
    assert other.call("GET", "/deployment/listModels").json()["data"] == []
    # Its own deployment of the same names is its own.
    assert user.call("DELETE", f"/deployment/pool/{pool['id']}").status_code == 409
