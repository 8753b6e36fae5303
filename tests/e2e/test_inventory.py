"""Inventory with a real ``inferia serve``: nodes registered with a token shown once,
heartbeats authenticated by it, silent nodes going UNKNOWN then LOST, the replicas of a
lost node replaced by the reconciler, revoked tokens refused, organisations apart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import BACKEND_PAIRS
from tests.e2e.orchestration_support import (
    TINY_SERVER,
    ControlClient,
    admin,
    backend_env,
    other_organisation,
    serving,
    wait_for,
)
from tests.processes import InferiaServer

pytestmark = pytest.mark.e2e
# Short thresholds: a node is UNKNOWN after 1.5 s of silence and LOST after 3 s.
SHORT_HEARTBEATS = {
    "INFERIA_ORCHESTRATION__HEARTBEAT_TIMEOUT_S": "1.5",
    "INFERIA_ORCHESTRATION__NODE_LOST_AFTER_S": "3",
}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("inventory")


@pytest.fixture(scope="module", params=BACKEND_PAIRS)
def server(data_dir: Path, request: pytest.FixtureRequest) -> Iterator[InferiaServer]:
    with backend_env(request.param) as backends:
        yield from serving(data_dir, **SHORT_HEARTBEATS, **backends)


@pytest.fixture(scope="module")
def user(server: InferiaServer) -> ControlClient:
    return admin(server)


def register(user: ControlClient, pool_id: str, **extra: Any) -> dict[str, Any]:
    reply = user.call("POST", "/inventory/nodes", json={"pool_id": pool_id, **extra})
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


def heartbeat(server: InferiaServer, token: str | None, **body: Any) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.post(
        f"{server.base_url}/inventory/heartbeat", json=body, headers=headers, timeout=10
    )


def node_state(user: ControlClient, node_id: str) -> str:
    reply = user.call("GET", f"/inventory/nodes/{node_id}")
    assert reply.status_code == 200, reply.text
    return str(reply.json()["state"])


def test_register_heartbeat_list_and_revoke(server: InferiaServer, user: ControlClient) -> None:
    pool = user.create_pool("gpu-farm")
    registered = register(
        user,
        pool["id"],
        provider_instance_id="i-0abc",
        capacity={"gpus": {"A100": 2}, "gpu_memory_gb": 160, "cpus": 32, "memory_gb": 256},
    )
    token, node = registered["token"], registered["node"]
    assert token.startswith("inode_") and node["state"] == "READY"
    assert node["last_heartbeat"] is None

    reply = heartbeat(
        server,
        token,
        allocation={"gpus": {"A100": 1}, "cpus": 4},
        endpoint="http://10.0.0.7:9000",
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["node_id"] == node["id"] and reply.json()["state"] == "READY"

    listed = user.call("GET", "/inventory/nodes", params={"pool_id": pool["id"]}).json()["data"]
    assert [n["id"] for n in listed] == [node["id"]]
    seen = listed[0]
    assert seen["capacity"]["gpus"] == {"A100": 2}
    assert seen["allocation"]["gpus"] == {"A100": 1} and seen["allocation"]["cpus"] == 4
    assert seen["endpoint"] == "http://10.0.0.7:9000"
    assert seen["last_heartbeat"] is not None
    # The token is shown once: never in a listing, never in a node.
    assert token not in user.call("GET", "/inventory/nodes").text
    assert token not in user.call("GET", f"/inventory/nodes/{node['id']}").text

    # Bad tokens, and a revoked one, are refused.
    assert heartbeat(server, token + "x").status_code == 401
    assert heartbeat(server, None).status_code == 401
    assert user.call("DELETE", f"/inventory/nodes/{node['id']}").status_code == 204
    refused = heartbeat(server, token)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["error"]["message"]
    assert user.call("GET", f"/inventory/nodes/{node['id']}").status_code == 404


def test_bad_input_is_refused(server: InferiaServer, user: ControlClient) -> None:
    pool = user.create_pool("bad-nodes")
    missing = user.call("POST", "/inventory/nodes", json={"pool_id": "not-a-pool"})
    assert missing.status_code == 404
    negative = user.call(
        "POST", "/inventory/nodes", json={"pool_id": pool["id"], "capacity": {"cpus": -1}}
    )
    assert negative.status_code == 400
    token = register(user, pool["id"])["token"]
    # The pool's max_nodes (1 by default) bounds its inventory.
    full = user.call("POST", "/inventory/nodes", json={"pool_id": pool["id"]})
    assert full.status_code == 409 and "max_nodes" in full.json()["error"]["message"]
    assert heartbeat(server, token, endpoint="ftp://x").status_code == 400
    assert heartbeat(server, token, unexpected=1).status_code == 400
    # Replica ids the pool does not have are named back, not recorded.
    reply = heartbeat(server, token, replicas=["nope", "00000000-0000-0000-0000-000000000000"])
    assert reply.json()["unknown_replicas"] == ["nope", "00000000-0000-0000-0000-000000000000"]
    anonymous = httpx.get(f"{server.base_url}/inventory/nodes")
    assert anonymous.status_code == 401


def test_a_silent_node_goes_unknown_then_lost(server: InferiaServer, user: ControlClient) -> None:
    pool = user.create_pool("flaky")
    registered = register(user, pool["id"])
    node_id, token = registered["node"]["id"], registered["token"]
    assert heartbeat(server, token).status_code == 200
    assert node_state(user, node_id) == "READY"
    unknown = wait_for(lambda: node_state(user, node_id) == "UNKNOWN", 5, "UNKNOWN")
    assert node_state(user, node_id) == "UNKNOWN"
    wait_for(lambda: node_state(user, node_id) == "LOST", 5, "LOST")
    print(f"UNKNOWN after {unknown:.1f} s")
    # A heartbeat brings it back.
    assert heartbeat(server, token).json()["state"] == "READY"
    assert node_state(user, node_id) == "READY"


def _tiny_model(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "version": "1",
        "artifact_uri": f"file://{TINY_SERVER}",
        "engine": "openai-compatible",
        "command": [
            "{python}",
            "{model_path}",
            *("--port", "{port}", "--api-key", "{api_key}", "--name", "{served_name}"),
        ],
    }


def _replica_ids(data_dir: Path, deployment_id: str) -> set[str]:
    """The local adapter names each replica's log file after the replica id."""
    logs = data_dir / "compute-local" / "logs" / deployment_id
    return {path.stem for path in logs.glob("*.log")} if logs.exists() else set()


def test_replicas_on_a_lost_node_are_replaced(
    server: InferiaServer, user: ControlClient, data_dir: Path
) -> None:
    pool = user.create_pool("with-nodes")
    assert user.call("POST", "/deployment/registerModel", json=_tiny_model("noded")).status_code
    deployment = user.call(
        "POST", "/deployment/deploy", json={"model": "noded", "version": "1", "pool_id": pool["id"]}
    ).json()
    before = user.wait_state(deployment["id"], "RUNNING", timeout=30)["endpoints"]
    (first,) = _replica_ids(data_dir, deployment["id"])

    registered = register(user, pool["id"])
    node_id, token = registered["node"]["id"], registered["token"]
    reply = heartbeat(server, token, replicas=[first])
    assert reply.json()["unknown_replicas"] == []
    assert user.call("GET", f"/inventory/nodes/{node_id}").json()["replicas"] == [first]

    # The node goes silent: LOST, its replica is replaced under a new id.
    wait_for(lambda: node_state(user, node_id) == "LOST", 8, "LOST")
    wait_for(lambda: len(_replica_ids(data_dir, deployment["id"])) == 2, 8, "a replacement")
    wait_for(
        lambda: (
            (s := user.status(deployment["id"]))["state"] == "RUNNING"
            and s["replicas"]["ready"] == 1
            and s["endpoints"] != before  # the replacement's, not the old one's
        ),
        30,
        "RUNNING on the replacement",
    )
    status = user.status(deployment["id"])
    reasons = [e["reason"] for e in status["events"]]
    assert any(f"lost node {node_id}" in r for r in reasons), reasons
    assert user.call("GET", f"/inventory/nodes/{node_id}").json()["replicas"] == []
    user.call("POST", f"/deployment/terminate/{deployment['id']}")
    user.wait_state(deployment["id"], "TERMINATED", timeout=20)


def test_another_organisation_sees_no_nodes(server: InferiaServer, user: ControlClient) -> None:
    pool = user.create_pool("mine")
    registered = register(user, pool["id"])
    other = other_organisation(server, "nodes-other@example.com", "another long password", "nodes")
    node_id = registered["node"]["id"]
    assert other.call("GET", f"/inventory/nodes/{node_id}").status_code == 404
    assert other.call("DELETE", f"/inventory/nodes/{node_id}").status_code == 404
    assert other.call("GET", "/inventory/nodes").json()["data"] == []
    listed = other.call("GET", "/inventory/nodes", params={"pool_id": pool["id"]})
    assert listed.status_code == 404
    stolen = other.call("POST", "/inventory/nodes", json={"pool_id": pool["id"]})
    assert stolen.status_code == 404
