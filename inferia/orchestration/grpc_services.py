"""The gRPC services the orchestration plane serves.

- ``grpc.health.v1.Health``: the standard health checking protocol, so that
  grpc_health_probe, grpcurl and Kubernetes gRPC probes work as they do anywhere.
  SERVING when this process' backends (state, and the database when it has one)
  answer their ping, NOT_SERVING otherwise.
- ``inferia.orchestration.v1.Orchestration``: Ping. Like every service but Health it
  is served behind ``grpc_api.guard.GuardedService``: version and planes are for
  authenticated callers only. The pools, registry, deployments and inventory services
  live in ``grpc_api``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from typing import Protocol

import grpclib
from grpclib.const import Handler, Status

from inferia import __version__
from inferia.config import Settings
from inferia.orchestration.grpc_gen.grpc.health.v1 import (
    HealthBase,
    HealthCheckRequest,
    HealthCheckResponse,
    HealthCheckResponseServingStatus,
)
from inferia.orchestration.grpc_gen.inferia.orchestration.v1 import (
    OrchestrationBase,
    PingRequest,
    PingResponse,
)

log = logging.getLogger(__name__)

# A backend ping slower than this counts as a failure. Probes have short deadlines
# (grpc_health_probe and Kubernetes gRPC probes: 1 s): answer NOT_SERVING before
# theirs expires rather than letting them time out.
DEFAULT_CHECK_TIMEOUT_S = 0.8


class Pingable(Protocol):
    async def ping(self) -> bool: ...


class GrpcRuntime(Protocol):
    """What the gRPC side needs from the process' ``inferia.runtime.Runtime``."""

    @property
    def settings(self) -> Settings: ...

    @property
    def state(self) -> Pingable: ...

    @property
    def database(self) -> Pingable | None: ...


class Servable(Protocol):
    """A grpclib service handler (what ``grpclib.server.Server`` accepts)."""

    def __mapping__(self) -> Mapping[str, Handler]: ...


def service_names(services: Iterable[Servable]) -> list[str]:
    """Fully qualified names of the gRPC services among ``services`` (sorted)."""
    names = {path.split("/")[1] for service in services for path in service.__mapping__()}
    return sorted(names)


class HealthService(HealthBase):
    """``grpc.health.v1.Health/Check`` over this process' backends."""

    def __init__(
        self,
        runtime: GrpcRuntime,
        served: Sequence[str],
        *,
        timeout_s: float = DEFAULT_CHECK_TIMEOUT_S,
    ) -> None:
        self._runtime = runtime
        # "" is the server as a whole; every service served shares the same backends.
        self._known = frozenset(("", *served, *service_names([self])))
        self._timeout_s = timeout_s

    async def check(self, message: HealthCheckRequest) -> HealthCheckResponse:
        if message.service not in self._known:
            raise grpclib.GRPCError(Status.NOT_FOUND, f"unknown service {message.service!r}")
        healthy = await self.backends_healthy()
        status = (
            HealthCheckResponseServingStatus.SERVING
            if healthy
            else HealthCheckResponseServingStatus.NOT_SERVING
        )
        return HealthCheckResponse(status=status)

    async def backends_healthy(self) -> bool:
        checks: dict[str, Awaitable[bool]] = {"state": self._runtime.state.ping()}
        database = self._runtime.database
        if database is not None:
            checks["database"] = database.ping()
        results = await asyncio.gather(*(self._bounded(c) for c in checks.values()))
        failed = [name for name, ok in zip(checks, results, strict=True) if not ok]
        if failed:
            log.warning("gRPC health check: NOT_SERVING, no answer from %s", ", ".join(failed))
        return not failed

    async def _bounded(self, check: Awaitable[bool]) -> bool:
        """The check's answer; False when it raises or exceeds the timeout."""
        try:
            async with asyncio.timeout(self._timeout_s):
                return bool(await check)
        except TimeoutError:
            return False
        except Exception:
            log.exception("gRPC health check: a backend ping raised")
            return False


class OrchestrationService(OrchestrationBase):
    """``inferia.orchestration.v1.Orchestration``: the control plane's gRPC API."""

    def __init__(self, runtime: GrpcRuntime) -> None:
        self._runtime = runtime

    async def ping(self, message: PingRequest) -> PingResponse:
        return PingResponse(version=__version__, planes=list(self._runtime.settings.planes))
