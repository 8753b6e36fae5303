"""The kubernetes adapter with real kr8s against kmock's in-memory API server: create,
status from the pod, stop, adoption after a restart, and refused configs."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import kmock
import pytest
from inferia_compute_kubernetes import KubernetesAdapter, create, manifests

from inferia.orchestration.adapters.discovery import installed_adapters
from inferia.orchestration.adapters.protocol import AdapterSetup, PoolAwareAdapter, PoolTarget
from tests.unit.kubernetes_support import NAMESPACE, objects, serve_version, spec, target

NAME = "inferia-r-1"


@pytest.fixture
async def adapter(kmock: kmock.RawHandler, tmp_path: Path) -> AsyncIterator[KubernetesAdapter]:
    serve_version(kmock)
    built = create(AdapterSetup(data_dir=tmp_path))
    built.use_pool(target(kmock))
    yield built
    await built.close()


async def _set_pod_status(server: Any, status: dict[str, Any]) -> None:
    # kmock runs no kubelet: the test plays it.
    reply = await server.patch(
        f"/api/v1/namespaces/{NAMESPACE}/pods/{NAME}", json={"status": status}
    )
    assert reply.status < 300


def test_the_entry_point_is_registered_and_pool_aware(tmp_path: Path) -> None:
    assert "kubernetes" in installed_adapters()
    built = installed_adapters()["kubernetes"]()(AdapterSetup(data_dir=tmp_path))
    assert isinstance(built, PoolAwareAdapter)


async def test_provision_creates_secret_pod_and_service(
    adapter: KubernetesAdapter, kmock: kmock.RawHandler
) -> None:
    handle = await adapter.provision(spec())
    assert handle == f"{NAMESPACE}/{NAME}"
    pod = objects(kmock, "pods")[NAME]
    service = objects(kmock, "services")[NAME]
    secret = objects(kmock, "secrets")[NAME]
    labels = {
        "app.kubernetes.io/managed-by": "inferia",
        "inferia.ai/deployment": "dep-1",
        "inferia.ai/replica": "r-1",
    }
    for obj in (pod, service, secret):
        assert obj["metadata"]["labels"] == labels
    # The key only in the Secret; the pod names it by reference.
    assert "sk-inferia-secret-value" not in json.dumps(pod)
    assert base64.b64decode(secret["data"]["api-key"]).decode() == "sk-inferia-secret-value"
    container = pod["spec"]["containers"][0]
    assert container["image"] == "vllm/vllm-openai:latest"
    assert "$(INFERIA_API_KEY)" in container["args"]
    assert container["args"][:2] == ["--model", "org/model"]
    key_env = next(e for e in container["env"] if e["name"] == "INFERIA_API_KEY")
    assert key_env["valueFrom"]["secretKeyRef"] == {"name": NAME, "key": "api-key"}
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert pod["spec"]["nodeSelector"] == {"gpu": "a100"}
    assert service["spec"]["selector"] == {"inferia.ai/replica": "r-1"}
    assert service["spec"]["type"] == "ClusterIP"
    # Idempotent: a second call creates nothing and fails nothing.
    await adapter.provision(spec())
    assert len(objects(kmock, "pods")) == 1


async def test_status_follows_the_pod(adapter: KubernetesAdapter, kmock: kmock.RawHandler) -> None:
    await adapter.provision(spec())
    assert (await adapter.observe("r-1")).phase == "starting"
    unschedulable = {
        "phase": "Pending",
        "conditions": [
            {"type": "PodScheduled", "status": "False", "message": "0/3 nodes have a GPU"}
        ],
    }
    await _set_pod_status(kmock, unschedulable)
    status = await adapter.observe("r-1")
    assert (status.phase, status.detail) == ("starting", "unschedulable: 0/3 nodes have a GPU")

    await _set_pod_status(kmock, {"phase": "Running", "containerStatuses": [{"restartCount": 0}]})
    status = await adapter.observe("r-1")
    assert status.phase == "running"
    assert status.endpoint == f"http://{NAME}.{NAMESPACE}.svc.cluster.local:8000/v1"

    crashing = {"restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
    await _set_pod_status(kmock, {"containerStatuses": [crashing]})
    status = await adapter.observe("r-1")
    assert (status.phase, status.restarts) == ("restarting", 3)

    bad_image = {"restartCount": 0, "state": {"waiting": {"reason": "InvalidImageName"}}}
    await _set_pod_status(kmock, {"containerStatuses": [bad_image]})
    assert (await adapter.observe("r-1")).phase == "failed"

    await _set_pod_status(kmock, {"phase": "Failed", "reason": "Evicted", "containerStatuses": []})
    status = await adapter.observe("r-1")
    assert (status.phase, status.detail) == ("failed", "Evicted")


async def test_a_load_balancer_endpoint_waits_for_its_address(
    kmock: kmock.RawHandler, tmp_path: Path
) -> None:
    serve_version(kmock)
    built = create(AdapterSetup(data_dir=tmp_path))
    built.use_pool(target(kmock, service_type="LoadBalancer"))
    await built.provision(spec())
    await _set_pod_status(kmock, {"phase": "Running"})
    assert (await built.observe("r-1")).phase == "starting"
    ingress = {"loadBalancer": {"ingress": [{"ip": "10.0.0.7"}]}}
    reply = await kmock.patch(
        f"/api/v1/namespaces/{NAMESPACE}/services/{NAME}", json={"status": ingress}
    )
    assert reply.status < 300
    status = await built.observe("r-1")
    assert (status.phase, status.endpoint) == ("running", "http://10.0.0.7:8000/v1")
    await built.close()


async def test_deprovision_deletes_every_object(
    adapter: KubernetesAdapter, kmock: kmock.RawHandler
) -> None:
    await adapter.provision(spec())
    await adapter.deprovision("r-1")
    for plural in ("pods", "services", "secrets"):
        assert objects(kmock, plural) == {}
    assert (await adapter.observe("r-1")).phase == "gone"
    await adapter.deprovision("r-1")  # a no-op once gone


async def test_a_pod_deleted_behind_our_back_is_gone(
    adapter: KubernetesAdapter, kmock: kmock.RawHandler
) -> None:
    await adapter.provision(spec())
    reply = await kmock.delete(f"/api/v1/namespaces/{NAMESPACE}/pods/{NAME}")
    assert reply.status < 300
    assert (await adapter.observe("r-1")).phase == "gone"
    await adapter.provision(spec())  # the reconciler's answer: the same id again
    assert NAME in objects(kmock, "pods")


async def test_a_new_process_adopts_the_running_replicas(
    adapter: KubernetesAdapter, kmock: kmock.RawHandler, tmp_path: Path
) -> None:
    await adapter.provision(spec("r-1"))
    await adapter.provision(spec("r-2"))
    await _set_pod_status(kmock, {"phase": "Running"})
    await adapter.close()  # Inferia stops: the pods keep serving
    assert len(objects(kmock, "pods")) == 2

    restarted = create(AdapterSetup(data_dir=tmp_path / "again"))
    # Told nothing yet: it cannot know where to look.
    assert (await restarted.observe("r-1")).phase == "gone"
    restarted.use_pool(target(kmock))
    status = await restarted.observe("r-1")
    assert (status.phase, status.endpoint is not None) == ("running", True)
    assert restarted.replicas() == {"r-1": "pool-1", "r-2": "pool-1"}
    # Terminating after the restart finds what to delete, and nothing was created twice.
    await restarted.deprovision("r-2")
    assert sorted(objects(kmock, "pods")) == [NAME]
    creates = [r for r in kmock["post"] if str(r.url).endswith("/pods")]
    assert len(creates) == 2
    await restarted.close()


async def test_logs_of_a_deployment_are_prefixed_by_replica(
    adapter: KubernetesAdapter, kmock: kmock.RawHandler
) -> None:
    await adapter.provision(spec())
    kmock[f"get /api/v1/namespaces/{NAMESPACE}/pods/{NAME}/log"] << b"loading\nready\n"
    lines = [line async for line in adapter.logs("dep-1", tail=10, follow=False)]
    assert lines == ["[r-1] loading", "[r-1] ready"]
    assert [line async for line in adapter.logs("other", tail=10, follow=False)] == []


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"namespce": "ml"}, "namespce"),
        ({"namespace": "Not_A_Label"}, "not a valid DNS label"),
        ({"service_type": "NodePort"}, "service_type"),
        ({"port": 0}, "port must be between"),
        ({"node_selector": {"gpu": 1}}, "node_selector"),
        ({"gpu_resource": "gpu"}, "gpu_resource"),
        ({"max_replicas": 0}, "max_replicas"),
        ({"image": ""}, "image must not be empty"),
    ],
)
def test_bad_pool_config_is_refused(tmp_path: Path, config: dict[str, Any], message: str) -> None:
    built = create(AdapterSetup(data_dir=tmp_path))
    with pytest.raises(ValueError, match=message):
        built.validate_pool_config(config)


def test_a_good_pool_config_is_normalised(tmp_path: Path) -> None:
    built = create(AdapterSetup(data_dir=tmp_path))
    config = built.validate_pool_config({"namespace": "ml", "image": "vllm/vllm-openai:v0.11.0"})
    assert config["namespace"] == "ml"
    assert config["service_type"] == "ClusterIP"
    assert config["gpu_resource"] == "nvidia.com/gpu"
    assert built.max_replicas(config) == 4


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"engine": "ollama"}, "runs the engines"),
        ({"artifact_uri": "s3://bucket/model"}, "cannot fetch 's3://'"),
        ({"engine": "openai-compatible", "command": ()}, "needs the server's 'command'"),
        ({"engine": "openai-compatible", "command": ("srv",)}, "names no image"),
    ],
)
def test_replicas_it_can_never_run_are_refused(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    built = create(AdapterSetup(data_dir=tmp_path))
    with pytest.raises(ValueError, match=message):
        built.check_replica(spec(**changes))


async def test_a_bad_kubeconfig_fails_the_replica_with_the_reason(tmp_path: Path) -> None:
    built = create(AdapterSetup(data_dir=tmp_path))
    bad = {"kubeconfig": "users: []"}
    built.use_pool(PoolTarget(pool_id="pool-1", config={"namespace": "ml"}, credentials=bad))
    assert await built.provision(spec()) is None
    status = await built.observe("r-1")
    assert status.phase == "failed"
    assert "no clusters" in status.detail


async def test_a_refusal_by_the_api_server_fails_the_replica(
    adapter: KubernetesAdapter, kmock: kmock.RawHandler
) -> None:
    forbidden = {"kind": "Status", "message": "pods is forbidden: no RBAC", "code": 403}
    kmock[f"post /api/v1/namespaces/{NAMESPACE}/pods"] << 403 << forbidden
    await adapter.provision(spec())
    status = await adapter.observe("r-1")
    assert status.phase == "failed"
    assert "403 pods is forbidden: no RBAC" in status.detail


def test_each_engine_gets_its_server_arguments() -> None:
    llama = manifests.args(spec(engine="llama.cpp"), 8000)
    assert llama[:2] == ["-hf", "org/model"]
    local_file = spec(engine="llama.cpp", artifact_uri="file:///models/m.gguf")
    assert manifests.args(local_file, 8000)[:2] == ["-m", "/models/m.gguf"]
    custom = spec(
        engine="openai-compatible",
        command=("{python}", "srv.py", "--port", "{port}", "--key", "{api_key}"),
    )
    assert manifests.args(custom, 9000) == [
        *("python3", "srv.py", "--port", "9000", "--key", "$(INFERIA_API_KEY)")
    ]


async def test_no_credentials_anywhere_fails_the_replica_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    built = create(AdapterSetup(data_dir=tmp_path))
    built.use_pool(PoolTarget(pool_id="pool-1", config={"namespace": "ml"}))
    assert await built.provision(spec()) is None
    status = await built.observe("r-1")
    assert status.phase == "failed"
    assert "no usable Kubernetes credentials" in status.detail
