"""The objects of one replica: a Secret (its API key), a Pod, a Service.

Pure functions of the spec and the pool config, so they are unit-testable and the same on
every leader. The key only ever reaches the container through ``secretKeyRef``; the
arguments name ``$(INFERIA_API_KEY)``, which the kubelet expands at container start.
"""

from __future__ import annotations

import base64
import math
from typing import Any
from urllib.parse import unquote, urlsplit

from inferia.orchestration.adapters.protocol import ReplicaSpec
from inferia_compute_kubernetes.config import PoolConfig

ENGINES = ("vllm", "llama.cpp", "sglang", "openai-compatible")
MANAGED_BY = "app.kubernetes.io/managed-by"
DEPLOYMENT_LABEL = "inferia.ai/deployment"
REPLICA_LABEL = "inferia.ai/replica"
KEY_ENV = "INFERIA_API_KEY"
SECRET_KEY = "api-key"


def name(replica_id: str) -> str:
    """Object names: a DNS label from the replica's UUID (the same for all three)."""
    return "inferia-" + "".join(c for c in replica_id.lower() if c.isalnum() or c == "-")[:50]


def labels(spec: ReplicaSpec) -> dict[str, str]:
    return {
        MANAGED_BY: "inferia",
        DEPLOYMENT_LABEL: spec.deployment_id,
        REPLICA_LABEL: spec.replica_id,
    }


def artifact(uri: str) -> str:
    """``hf://org/model`` -> ``org/model`` (the engine downloads it); ``file:///m/x``
    -> ``/m/x`` (a path inside the image or a volume); a bare name as is."""
    parts = urlsplit(uri)
    if parts.scheme == "hf":
        return f"{parts.netloc}{parts.path}"
    if parts.scheme == "file":
        return unquote(parts.path)
    if parts.scheme == "":
        return uri
    raise ValueError(f"the kubernetes adapter cannot fetch '{parts.scheme}://' artifacts")


def check(spec: ReplicaSpec, config: PoolConfig) -> None:
    if spec.engine not in ENGINES:
        raise ValueError(
            f"the kubernetes adapter runs the engines {', '.join(ENGINES)}, not '{spec.engine}'"
        )
    if spec.engine == "openai-compatible" and not spec.command:
        raise ValueError("the 'openai-compatible' engine needs the server's 'command'")
    if config.image_for(spec.engine) is None:
        raise ValueError(f"the pool config names no image for the '{spec.engine}' engine")
    artifact(spec.artifact_uri)


def args(spec: ReplicaSpec, port: int) -> list[str]:
    """The container's arguments (the image's entrypoint runs them)."""
    model = artifact(spec.artifact_uri)
    key = f"$({KEY_ENV})"
    extra = list(spec.engine_args)
    if spec.engine == "vllm":  # vllm/vllm-openai's entrypoint is the API server
        return [
            *("--model", model, "--served-model-name", spec.served_name),
            *("--host", "0.0.0.0", "--port", str(port), "--api-key", key),
            *extra,
        ]
    if spec.engine == "llama.cpp":  # llama.cpp's server image runs llama-server
        # llama-server fetches a Hugging Face repo itself with -hf; -m is a file path.
        source = "-hf" if spec.artifact_uri.startswith("hf://") else "-m"
        return [
            *(source, model, "--alias", spec.served_name),
            *("--host", "0.0.0.0", "--port", str(port), "--api-key", key),
            *extra,
        ]
    if spec.engine == "sglang":
        return [
            *("python3", "-m", "sglang.launch_server", "--model-path", model),
            *("--served-model-name", spec.served_name),
            *("--host", "0.0.0.0", "--port", str(port), "--api-key", key),
            *extra,
        ]
    values = {
        "model_path": model,
        "host": "0.0.0.0",
        "port": str(port),
        "api_key": key,
        "served_name": spec.served_name,
        "python": "python3",
    }
    return [part.format(**values) for part in spec.command] + extra


def secret(spec: ReplicaSpec, config: PoolConfig) -> dict[str, Any]:
    encoded = base64.b64encode(spec.api_key.encode()).decode()
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _meta(spec, config),
        "type": "Opaque",
        "data": {SECRET_KEY: encoded},
    }


def pod(spec: ReplicaSpec, config: PoolConfig) -> dict[str, Any]:
    image = config.image_for(spec.engine)
    key_ref = {"secretKeyRef": {"name": name(spec.replica_id), "key": SECRET_KEY}}
    env: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in sorted(config.env.items())]
    env.append({"name": KEY_ENV, "valueFrom": key_ref})
    if spec.engine == "vllm":  # vLLM also reads it from here
        env.append({"name": "VLLM_API_KEY", "valueFrom": key_ref})
    container: dict[str, Any] = {
        "name": "server",
        "image": image,
        "args": args(spec, config.port),
        "env": env,
        "ports": [{"name": "http", "containerPort": config.port}],
        "resources": _resources(spec, config),
        # The reconciler probes /v1/models with the key; this only gates the Service.
        "readinessProbe": {
            "tcpSocket": {"port": config.port},
            "periodSeconds": 5,
        },
    }
    if spec.engine == "openai-compatible":
        container["command"] = container.pop("args")
    pod_spec: dict[str, Any] = {"containers": [container], "restartPolicy": "Always"}
    if config.node_selector:
        pod_spec["nodeSelector"] = dict(config.node_selector)
    if config.image_pull_secrets:
        pod_spec["imagePullSecrets"] = [{"name": n} for n in config.image_pull_secrets]
    if config.service_account:
        pod_spec["serviceAccountName"] = config.service_account
    return {"apiVersion": "v1", "kind": "Pod", "metadata": _meta(spec, config), "spec": pod_spec}


def service(spec: ReplicaSpec, config: PoolConfig) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(spec, config),
        "spec": {
            "type": config.service_type,
            "selector": {REPLICA_LABEL: spec.replica_id},
            "ports": [{"name": "http", "port": config.port, "targetPort": config.port}],
        },
    }


def _meta(spec: ReplicaSpec, config: PoolConfig) -> dict[str, Any]:
    return {"name": name(spec.replica_id), "namespace": config.namespace, "labels": labels(spec)}


def _resources(spec: ReplicaSpec, config: PoolConfig) -> dict[str, Any]:
    wanted = spec.resources
    requests: dict[str, str] = {}
    limits: dict[str, str] = {}
    if wanted.cpus:
        requests["cpu"] = f"{math.ceil(wanted.cpus * 1000)}m"
    if wanted.memory_gb:
        requests["memory"] = limits["memory"] = f"{math.ceil(wanted.memory_gb * 1024)}Mi"
    if wanted.gpus:  # extended resources: requests must equal limits
        requests[config.gpu_resource] = limits[config.gpu_resource] = str(wanted.gpus)
    return {"requests": requests, "limits": limits}
