"""A deployment on a ``kubernetes`` pool through a real ``inferia serve``: the reconciler
reaches kmock's API server with the pool's kubeconfig credential, creates the replica's
Secret, Pod and Service, follows the pod, routes to it, and deletes it all on terminate.
The test plays the kubelet (it starts the "pod's" server and patches the pod status)."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import kmock
import pytest

from tests.e2e.gateway_fixtures import client, create_key
from tests.e2e.orchestration_support import TINY_SERVER, admin, orchestration_env, wait_for
from tests.processes import InferiaServer, free_port
from tests.unit.kubernetes_support import NAMESPACE, kubeconfig, serve_version

pytestmark = pytest.mark.e2e


class ThreadedKmock:
    """kmock's emulator on its own event loop: the reconciler is another process."""

    def __init__(self) -> None:
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self.handler: kmock.RawHandler | None = None
        self.url = ""

    def __enter__(self) -> ThreadedKmock:
        self._thread.start()
        assert self._ready.wait(10), "kmock did not start"
        return self

    def __exit__(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with kmock.KubernetesEmulator() as handler, kmock.Server(handler):
            serve_version(handler)
            self.handler, self.url = handler, str(handler.url).rstrip("/")
            self._ready.set()
            await self._stop.wait()

    def items(self, plural: str) -> list[dict[str, Any]]:
        reply = httpx.get(f"{self.url}/api/v1/namespaces/{NAMESPACE}/{plural}")
        return list(reply.json()["items"]) if reply.status_code == 200 else []

    def patch_status(self, plural: str, name: str, status: dict[str, Any]) -> None:
        path = f"{self.url}/api/v1/namespaces/{NAMESPACE}/{plural}/{name}"
        assert httpx.patch(path, json={"status": status}).status_code < 300


@pytest.fixture(scope="module")
def cluster() -> Iterator[ThreadedKmock]:
    with ThreadedKmock() as running:
        yield running


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InferiaServer]:
    running = InferiaServer(orchestration_env(tmp_path_factory.mktemp("kube")))
    try:
        yield running.start(timeout=120)
    finally:
        running.__exit__()


def test_a_deployment_runs_as_pod_service_and_secret(
    cluster: ThreadedKmock, server: InferiaServer
) -> None:
    assert cluster.handler is not None
    user = admin(server)
    port = free_port()
    reply = user.call(
        "POST",
        "/deployment/createpool",
        json={
            "name": "kube",
            "provider": "kubernetes",
            "config": {"namespace": NAMESPACE, "service_type": "LoadBalancer", "port": port},
            "credentials": {"kubeconfig": kubeconfig(cluster.handler)},
        },
    )
    assert reply.status_code == 201, reply.text
    pool = reply.json()
    bad = user.call(
        "POST",
        "/deployment/createpool",
        json={"name": "typo", "provider": "kubernetes", "config": {"namespaces": "ml"}},
    )
    assert bad.status_code in (400, 422) and "namespaces" in bad.text
    model = {"name": "kube-chat", "version": "1", "artifact_uri": "hf://org/tiny", "engine": "vllm"}
    assert user.call("POST", "/deployment/registerModel", json=model).status_code == 201
    deployment = user.deploy("kube-chat", "1", pool["id"])

    wait_for(lambda: len(cluster.items("pods")) == 1, 20, "the pod created")
    pod = cluster.items("pods")[0]
    name = pod["metadata"]["name"]
    assert pod["metadata"]["labels"]["inferia.ai/deployment"] == deployment["id"]
    wait_for(lambda: len(cluster.items("services")) == 1, 5, "the service created")
    secret = cluster.items("secrets")[0]
    key = base64.b64decode(secret["data"]["api-key"]).decode()
    assert key not in json.dumps(pod)

    # The kubelet's part: the server runs with the Secret's key; the pod and the load
    # balancer report in.
    model_server = subprocess.Popen(
        [sys.executable, TINY_SERVER, "--port", str(port), "--api-key", key, "--name", "kube-chat"]
    )
    try:
        cluster.patch_status("pods", name, {"phase": "Running"})
        ingress = {"loadBalancer": {"ingress": [{"ip": "127.0.0.1"}]}}
        cluster.patch_status("services", name, ingress)
        status = user.wait_state(deployment["id"], "RUNNING", timeout=30)
        assert status["endpoints"] == [f"http://127.0.0.1:{port}/v1"]
        sdk = client(server, create_key(server.env))
        wait_for(lambda: _answers(sdk), 5, "routed to the pod")

        reply = user.call("POST", f"/deployment/terminate/{deployment['id']}")
        assert reply.status_code == 202, reply.text
        user.wait_state(deployment["id"], "TERMINATED", timeout=20)
        for plural in ("pods", "services", "secrets"):
            assert cluster.items(plural) == [], plural
    finally:
        model_server.kill()
        model_server.wait()


def _answers(sdk: Any) -> bool:
    try:
        answer = sdk.chat.completions.create(
            model="kube-chat", messages=[{"role": "user", "content": "hi"}]
        )
    except Exception:
        return False
    return bool(answer.choices[0].message.content)
