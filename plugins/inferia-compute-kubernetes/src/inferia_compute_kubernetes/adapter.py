"""``KubernetesAdapter``: each replica is a Pod + Service + Secret in the pool's namespace.

A bare Pod (not a Deployment): the reconciler already is the controller (a deleted or
failed pod is observed ``gone``/``failed`` and provisioned again under the same id), and
the kubelet restarts a crashed container itself. The objects outlive Inferia: ``close``
leaves them running and a new leader adopts them by label (``use_pool`` tells it where
to look), so a restart of Inferia does not reload every model.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from inferia.orchestration.adapters.protocol import (
    AdapterSetup,
    Capabilities,
    PoolTarget,
    ReplicaSpec,
    ReplicaStatus,
)
from inferia_compute_kubernetes import config as pool_config
from inferia_compute_kubernetes import manifests
from inferia_compute_kubernetes.cluster import Cluster, ClusterError
from inferia_compute_kubernetes.logs import merged, prefixed
from inferia_compute_kubernetes.status import endpoint, replica_status

_MANAGED = {manifests.MANAGED_BY: "inferia"}
log = logging.getLogger(__name__)


class KubernetesAdapter:
    name = "kubernetes"
    capabilities = Capabilities(reports_nodes=False, engines=manifests.ENGINES)

    def __init__(self, setup: AdapterSetup) -> None:
        self._setup = setup
        self._clusters: dict[str, tuple[PoolTarget, Cluster]] = {}
        self._scanned: set[str] = set()
        self._replicas: dict[str, str] = {}  # replica id -> pool id
        self._refused: dict[str, str] = {}  # replica id -> why the cluster refused it
        self._lock = asyncio.Lock()

    def validate_pool_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        return pool_config.normalised(pool_config.parse(config))

    def max_replicas(self, config: Mapping[str, Any]) -> int:
        return pool_config.parse(config).max_replicas

    def check_replica(self, spec: ReplicaSpec) -> None:
        manifests.check(spec, pool_config.parse(spec.pool_config))

    def use_pool(self, target: PoolTarget) -> None:
        known = self._clusters.get(target.pool_id)
        if known is not None and _same(known[0], target):
            return
        cluster = Cluster(pool_config.parse(target.config), target.credentials)
        self._clusters[target.pool_id] = (target, cluster)
        self._scanned.discard(target.pool_id)
        if known is not None:  # new config or credentials: a new client
            _close_later(known[1])

    async def provision(self, spec: ReplicaSpec) -> str | None:
        async with self._lock:
            cluster = self._cluster_for(spec)
            manifests.check(spec, cluster.config)
            name = manifests.name(spec.replica_id)
            self._refused.pop(spec.replica_id, None)
            try:
                # Secret first: the pod cannot start without it. Each create is a no-op
                # when the object exists (a repeated call, or adoption after a restart).
                await cluster.create(manifests.secret(spec, cluster.config))
                await cluster.create(manifests.pod(spec, cluster.config))
                await cluster.create(manifests.service(spec, cluster.config))
            except ClusterError as exc:
                # RBAC, quota, a bad kubeconfig: it will not pass on a retry, so the
                # deployment fails with this reason (network errors raise: retried).
                self._refused[spec.replica_id] = str(exc)
                return None
            self._replicas[spec.replica_id] = spec.pool_id
            return f"{cluster.namespace}/{name}"

    async def deprovision(self, replica_id: str) -> None:
        self._refused.pop(replica_id, None)
        cluster = await self._find(replica_id)
        if cluster is None:
            return
        name = manifests.name(replica_id)
        for plural in ("services", "pods", "secrets"):
            await cluster.delete(plural, name)
        self._replicas.pop(replica_id, None)

    async def observe(self, replica_id: str) -> ReplicaStatus:
        refused = self._refused.get(replica_id)
        if refused is not None:
            return ReplicaStatus(phase="failed", detail=refused)
        cluster = await self._find(replica_id)
        if cluster is None:
            return ReplicaStatus(phase="gone")
        name = manifests.name(replica_id)
        pod = await cluster.get("pods", name)
        if pod is None:  # deleted behind our back: the reconciler provisions it again
            self._replicas.pop(replica_id, None)
            return ReplicaStatus(phase="gone")
        service = await cluster.get("services", name)
        url = endpoint(service, cluster.namespace, cluster.config.port) if service else None
        return replica_status(pod, url)

    async def logs(self, deployment_id: str, *, tail: int, follow: bool) -> AsyncIterator[str]:
        labels = {**_MANAGED, manifests.DEPLOYMENT_LABEL: deployment_id}
        sources: list[AsyncIterator[str]] = []
        seen: set[str] = set()  # two pools may name the same namespace
        for _, cluster in list(self._clusters.values()):
            for pod in await cluster.list("pods", labels):
                meta = pod["metadata"]
                uid = meta.get("uid") or f"{cluster.namespace}/{meta['name']}"
                if uid in seen:
                    continue
                seen.add(uid)
                replica = meta["labels"][manifests.REPLICA_LABEL]
                sources.append(prefixed(replica, cluster.logs(pod, tail=tail, follow=follow)))
        async for line in merged(sources):
            yield line

    def replicas(self) -> dict[str, str]:
        """Replica id -> pool id, of the replicas this process knows (tests, operators)."""
        return dict(self._replicas)

    async def close(self) -> None:
        """The pods keep serving: the next leader adopts them. Only the clients close."""
        clusters = [cluster for _, cluster in self._clusters.values()]
        self._clusters.clear()
        self._scanned.clear()
        self._replicas.clear()
        self._refused.clear()
        for cluster in clusters:
            await cluster.close()

    def _cluster_for(self, spec: ReplicaSpec) -> Cluster:
        known = self._clusters.get(spec.pool_id)
        if known is None:  # provisioned without a pass (tests, or an older core)
            self.use_pool(PoolTarget(pool_id=spec.pool_id, config=spec.pool_config))
            known = self._clusters[spec.pool_id]
        return known[1]

    async def _find(self, replica_id: str) -> Cluster | None:
        """The replica's cluster; after a restart, adopt the pools' labelled pods first."""
        pool_id = self._replicas.get(replica_id)
        if pool_id is None:
            await self._adopt()
            pool_id = self._replicas.get(replica_id)
        known = self._clusters.get(pool_id) if pool_id is not None else None
        return known[1] if known is not None else None

    async def _adopt(self) -> None:
        async with self._lock:
            for pool_id, (_, cluster) in list(self._clusters.items()):
                if pool_id in self._scanned:
                    continue
                try:
                    pods = await cluster.list("pods", _MANAGED)
                except ClusterError as exc:  # its replicas answer "gone", then fail
                    log.warning("kubernetes pool %s: cannot list pods: %s", pool_id, exc)
                    pods = []
                for pod in pods:
                    replica = pod["metadata"]["labels"].get(manifests.REPLICA_LABEL)
                    if replica:
                        self._replicas.setdefault(replica, pool_id)
                self._scanned.add(pool_id)


def _same(a: PoolTarget, b: PoolTarget) -> bool:
    return dict(a.config) == dict(b.config) and dict(a.credentials) == dict(b.credentials)


def _close_later(cluster: Cluster) -> None:
    with contextlib.suppress(RuntimeError):  # no running loop: nothing open to close
        task = asyncio.get_running_loop().create_task(cluster.close())
        _PENDING.add(task)
        task.add_done_callback(_PENDING.discard)


_PENDING: set[asyncio.Task[None]] = set()
