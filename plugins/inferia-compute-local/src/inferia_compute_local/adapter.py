"""``LocalAdapter``: replicas as model-server subprocesses of this Inferia process."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from inferia.orchestration.adapters.protocol import (
    AdapterSetup,
    Capabilities,
    ReplicaSpec,
    ReplicaStatus,
)
from inferia_compute_local import recipes
from inferia_compute_local.logs import read_logs
from inferia_compute_local.server import ModelServer

HOST = "127.0.0.1"


class LocalAdapter:
    name = "local"
    capabilities = Capabilities(reports_nodes=False, engines=recipes.ENGINES)

    def __init__(self, setup: AdapterSetup) -> None:
        self._setup = setup
        self._log_dir = setup.data_dir / "compute-local" / "logs"
        self._servers: dict[str, tuple[ModelServer, int]] = {}
        self._lock = asyncio.Lock()

    def validate_pool_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        known = {"max_replicas", "cpus", "memory_gb", "gpus", "env"}
        unknown = sorted(set(config) - known)
        if unknown:
            raise ValueError(f"unknown local pool settings: {', '.join(unknown)}")
        max_replicas = config.get("max_replicas", 4)
        cpus = config.get("cpus", os.cpu_count() or 1)
        memory_gb = config.get("memory_gb")
        gpus = config.get("gpus", [])
        env = config.get("env", {})
        if not isinstance(max_replicas, int) or isinstance(max_replicas, bool) or max_replicas < 1:
            raise ValueError("max_replicas must be an integer >= 1")
        if not isinstance(cpus, int | float) or cpus <= 0:
            raise ValueError("cpus must be a number > 0")
        if memory_gb is not None and (not isinstance(memory_gb, int | float) or memory_gb <= 0):
            raise ValueError("memory_gb must be a number > 0")
        if not isinstance(gpus, list) or not all(isinstance(g, int) and g >= 0 for g in gpus):
            raise ValueError("gpus must be a list of GPU indices")
        if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
            raise ValueError("env must map names to strings")
        return {
            "max_replicas": max_replicas,
            "cpus": cpus,
            "memory_gb": memory_gb,
            "gpus": gpus,
            "env": env,
        }

    def max_replicas(self, config: Mapping[str, Any]) -> int:
        return int(config.get("max_replicas", 4))

    def check_replica(self, spec: ReplicaSpec) -> None:
        recipes.check(spec)
        config = spec.pool_config
        if spec.resources.gpus > len(config.get("gpus", [])):
            raise ValueError(
                f"the replica needs {spec.resources.gpus} GPUs; the pool has "
                f"{len(config.get('gpus', []))}"
            )
        if spec.resources.cpus > float(config.get("cpus", os.cpu_count() or 1)):
            raise ValueError(f"the replica needs {spec.resources.cpus} CPUs; the pool has fewer")
        memory = config.get("memory_gb")
        if memory is not None and spec.resources.memory_gb > float(memory):
            raise ValueError(f"the replica needs {spec.resources.memory_gb} GB; the pool has less")

    async def provision(self, spec: ReplicaSpec) -> str | None:
        async with self._lock:
            if spec.replica_id in self._servers:
                return None
            recipes.check(spec)
            port = _free_port()
            config = spec.pool_config
            server = ModelServer(
                recipes.command(spec, HOST, port),
                recipes.environment(
                    list(config.get("gpus", [])), spec.resources.gpus, dict(config.get("env", {}))
                ),
                self._log_path(spec.deployment_id, spec.replica_id),
                stop_grace_s=self._setup.stop_grace_s,
                backoff_s=self._setup.restart_backoff_s,
                backoff_max_s=self._setup.restart_backoff_max_s,
            )
            server.start()
            self._servers[spec.replica_id] = (server, port)
            return None

    async def deprovision(self, replica_id: str) -> None:
        async with self._lock:
            entry = self._servers.pop(replica_id, None)
        if entry is not None:
            await entry[0].stop()

    async def observe(self, replica_id: str) -> ReplicaStatus:
        entry = self._servers.get(replica_id)
        if entry is None:
            return ReplicaStatus(phase="gone")
        server, port = entry
        return ReplicaStatus(
            phase=server.phase,
            endpoint=f"http://{HOST}:{port}/v1",
            restarts=server.restarts,
            detail=server.detail,
        )

    def logs(self, deployment_id: str, *, tail: int, follow: bool) -> AsyncIterator[str]:
        return read_logs(self._log_dir / _safe(deployment_id), tail=tail, follow=follow)

    def pids(self) -> dict[str, int | None]:
        """The model servers' process ids by replica (what tests and operators kill)."""
        return {replica: server.pid for replica, (server, _) in self._servers.items()}

    async def close(self) -> None:
        async with self._lock:
            servers = [server for server, _ in self._servers.values()]
            self._servers.clear()
        await asyncio.gather(*(server.stop() for server in servers))

    def _log_path(self, deployment_id: str, replica_id: str) -> Path:
        folder = self._log_dir / _safe(deployment_id)
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{_safe(replica_id)}.log"


def _safe(identifier: str) -> str:
    """Ids are UUIDs the control plane made; never let one name a path elsewhere."""
    return "".join(c for c in identifier if c.isalnum() or c == "-") or "_"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])
