"""A kmock Kubernetes API emulator that real kr8s talks to, and the pool that points at it."""

from __future__ import annotations

from typing import Any

import kmock

from inferia.orchestration.adapters.protocol import PoolTarget, ReplicaSpec, Resources

NAMESPACE = "ml"
CONFIG: dict[str, Any] = {
    "namespace": NAMESPACE,
    "node_selector": {"gpu": "a100"},
    "gpu_resource": "nvidia.com/gpu",
}


def serve_version(server: kmock.RawHandler) -> None:
    # kr8s asks for /version/ with a trailing slash; kmock serves /version only.
    server["get /version/"] << {"major": "1", "minor": "32", "gitVersion": "v1.32.0"}


def kubeconfig(server: kmock.RawHandler) -> str:
    return f"""
apiVersion: v1
kind: Config
clusters: [{{name: mock, cluster: {{server: "{server.url}"}}}}]
users: [{{name: tester, user: {{}}}}]
contexts: [{{name: mock, context: {{cluster: mock, user: tester}}}}]
current-context: mock
"""


def target(server: kmock.RawHandler, **config: Any) -> PoolTarget:
    return PoolTarget(
        pool_id="pool-1",
        config={**CONFIG, **config},
        credentials={"kubeconfig": kubeconfig(server)},
    )


def spec(replica_id: str = "r-1", **changes: Any) -> ReplicaSpec:
    values: dict[str, Any] = {
        "replica_id": replica_id,
        "deployment_id": "dep-1",
        "artifact_uri": "hf://org/model",
        "engine": "vllm",
        "served_name": "model",
        "api_key": "sk-inferia-secret-value",
        "resources": Resources(gpus=1, cpus=2, memory_gb=8),
        "pool_config": CONFIG,
        "pool_id": "pool-1",
    }
    return ReplicaSpec(**{**values, **changes})


def objects(server: Any, plural: str) -> dict[str, dict[str, Any]]:
    """The live objects of one kind in the namespace, by name."""
    found: dict[str, dict[str, Any]] = {}
    for (resource, namespace, name), obj in server.objects.items():
        if resource.plural == plural and namespace == NAMESPACE and not obj.deleted:
            found[name] = obj.raw
    return found
