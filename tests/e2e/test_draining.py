"""Replicas leave routing before they stop: a request in flight when its deployment is
terminated (or its replica scaled away) completes; the server stops ``drain_s`` later."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.gateway_fixtures import client, create_key
from tests.e2e.orchestration_support import ControlClient, admin, serving, wait_for
from tests.e2e.test_orchestration import models_seen, server_pids, tiny_model
from tests.processes import InferiaServer

pytestmark = pytest.mark.e2e
DRAIN_S = 3.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InferiaServer]:
    yield from serving(tmp_path_factory.mktemp("drain"), INFERIA_ORCHESTRATION__DRAIN_S="3")


@pytest.fixture(scope="module")
def user(server: InferiaServer) -> ControlClient:
    return admin(server)


def deploy(user: ControlClient, name: str, replicas: int) -> dict[str, Any]:
    pool = user.create_pool(name, config={"max_replicas": 2})
    assert user.call("POST", "/deployment/registerModel", json=tiny_model(name)).status_code
    deployment = user.call(
        "POST",
        "/deployment/deploy",
        json={"model": name, "version": "1", "pool_id": pool["id"], "replicas": replicas},
    ).json()
    return user.wait_state(deployment["id"], "RUNNING", timeout=30)


def test_terminate_lets_requests_in_flight_finish(
    server: InferiaServer, user: ControlClient
) -> None:
    deployment = deploy(user, "drained", 1)
    key = create_key(server.env)
    wait_for(lambda: "drained" in models_seen(server, key), 2, "routed")
    sdk = client(server, key)
    answers: list[str] = []

    def slow_request() -> None:
        reply = sdk.chat.completions.create(
            model="drained",
            messages=[{"role": "user", "content": "hi"}],
            extra_body={"tiny_sleep_s": 2},
        )
        answers.append(str(reply.choices[0].message.content))

    in_flight = threading.Thread(target=slow_request)
    in_flight.start()
    time.sleep(0.5)
    assert user.call("POST", f"/deployment/terminate/{deployment['id']}").status_code == 202
    wait_for(lambda: "drained" not in models_seen(server, key), 2, "out of routing")
    # Out of routing, but still serving what it has.
    assert server_pids("drained")
    in_flight.join(10)
    assert answers and answers[0].startswith("pid ")
    user.wait_state(deployment["id"], "TERMINATED", timeout=DRAIN_S + 10)
    assert server_pids("drained") == []
    events = user.call("GET", f"/deployment/events/{deployment['id']}").json()["data"]
    stopping = [e["at"] for e in events if e["to"] in ("TERMINATING", "TERMINATED")]
    assert len(stopping) == 2


def test_scale_down_drains_the_replica_it_removes(
    server: InferiaServer, user: ControlClient
) -> None:
    deployment = deploy(user, "shrinking", 2)
    key = create_key(server.env)
    sdk = client(server, key)
    wait_for(lambda: "shrinking" in models_seen(server, key), 2, "routed")
    assert len(server_pids("shrinking")) == 2
    reply = user.call("POST", f"/deployment/scale/{deployment['id']}", json={"replicas": 1})
    assert reply.status_code == 202
    started = time.monotonic()
    wait_for(lambda: user.status(deployment["id"])["replicas"]["ready"] == 1, 3, "1 routed")
    # Clients see no error while the removed replica drains and stops.
    while time.monotonic() - started < DRAIN_S + 1:
        answer = sdk.chat.completions.create(
            model="shrinking", messages=[{"role": "user", "content": "hi"}]
        )
        assert answer.choices[0].message.content
        if time.monotonic() - started < DRAIN_S - 1:
            assert len(server_pids("shrinking")) == 2, "stopped before its drain time"
        time.sleep(0.1)
    wait_for(lambda: len(server_pids("shrinking")) == 1, 10, "the removed replica stopped")
    status = user.status(deployment["id"])
    assert status["state"] == "RUNNING" and status["replicas"] == {"desired": 1, "ready": 1}
    user.call("POST", f"/deployment/terminate/{deployment['id']}")
    user.wait_state(deployment["id"], "TERMINATED", timeout=DRAIN_S + 10)
    assert server_pids("shrinking") == []
