"""A replica's status from its Pod and Service, as the kubelet and scheduler report them."""

from __future__ import annotations

from typing import Any

from inferia.orchestration.adapters.protocol import ReplicaStatus

# Waiting reasons that will not fix themselves: the pod spec itself is wrong.
_FATAL = {"InvalidImageName", "CreateContainerConfigError", "ErrImageNeverPull"}
# The container exited and the kubelet restarts it with its own backoff.
_RESTARTING = {"CrashLoopBackOff", "RunContainerError"}


def replica_status(pod: dict[str, Any], endpoint: str | None) -> ReplicaStatus:
    status = pod.get("status") or {}
    phase = status.get("phase") or "Pending"
    containers = status.get("containerStatuses") or []
    restarts = sum(int(c.get("restartCount") or 0) for c in containers)
    if pod.get("metadata", {}).get("deletionTimestamp"):
        return ReplicaStatus(phase="starting", restarts=restarts, detail="pod is being deleted")
    if phase in ("Failed", "Succeeded"):  # restartPolicy Always: evicted, or the node died
        why = status.get("reason") or status.get("message") or f"pod {phase.lower()}"
        return ReplicaStatus(phase="failed", restarts=restarts, detail=str(why))
    for container in containers:
        waiting = (container.get("state") or {}).get("waiting") or {}
        reason = waiting.get("reason") or ""
        detail = f"{reason}: {waiting.get('message', '')}".rstrip(": ")
        if reason in _FATAL:
            return ReplicaStatus(phase="failed", restarts=restarts, detail=detail)
        if reason in _RESTARTING:
            return ReplicaStatus(phase="restarting", restarts=restarts, detail=detail)
        if reason:  # ContainerCreating, ImagePullBackOff (a registry may come back)
            return ReplicaStatus(phase="starting", restarts=restarts, detail=detail)
    if phase == "Running" and endpoint is not None:
        return ReplicaStatus(phase="running", endpoint=endpoint, restarts=restarts)
    return ReplicaStatus(phase="starting", restarts=restarts, detail=_unscheduled(status))


def endpoint(service: dict[str, Any], namespace: str, port: int) -> str | None:
    """The OpenAI base URL: cluster DNS for ClusterIP (Inferia runs in the cluster), the
    load balancer's address once it has one."""
    meta, spec = service.get("metadata") or {}, service.get("spec") or {}
    if spec.get("type", "ClusterIP") == "LoadBalancer":
        ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        if not ingress:
            return None
        host = ingress[0].get("ip") or ingress[0].get("hostname")
        return f"http://{host}:{port}/v1" if host else None
    return f"http://{meta.get('name')}.{namespace}.svc.cluster.local:{port}/v1"


def _unscheduled(status: dict[str, Any]) -> str:
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return f"unschedulable: {condition.get('message') or condition.get('reason', '')}"
    return ""
