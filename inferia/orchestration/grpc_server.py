"""The orchestration plane's gRPC server (grpclib), started and stopped with the app.

It binds ``settings.server.host``:``settings.server.grpc_port``. With several granian
workers, each builds the app and starts its own server on the same port with
SO_REUSEPORT, and the kernel spreads connections over them; with one worker the port
is bound alone, so a second process started on it fails instead of silently taking
part of the traffic.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Sequence

from grpclib.server import Server

from inferia.core.errors import ConfigError
from inferia.orchestration.grpc_services import (
    DEFAULT_CHECK_TIMEOUT_S,
    GrpcRuntime,
    HealthService,
    Servable,
    service_names,
)

log = logging.getLogger(__name__)

# grpclib cancels running calls on close; waiting for the connections to go away
# is bounded so that an idle client holding its channel open cannot stall shutdown.
DEFAULT_CLOSE_TIMEOUT_S = 5.0


def tls_context(cert: str, key: str) -> ssl.SSLContext | None:
    """TLS for the gRPC port when ``server.grpc_tls_cert`` and ``grpc_tls_key`` are set."""
    if not cert and not key:
        return None
    if not (cert and key):
        raise ConfigError("server.grpc_tls_cert and server.grpc_tls_key go together")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"gRPC TLS certificate or key unusable: {exc}") from None
    context.set_alpn_protocols(["h2"])  # gRPC is HTTP/2 only
    return context


class GrpcServer:
    """The standard Health service and the plane's (guarded) services on one grpclib
    ``Server``."""

    def __init__(
        self,
        runtime: GrpcRuntime,
        services: Sequence[Servable] = (),
        *,
        host: str | None = None,
        port: int | None = None,
        check_timeout_s: float = DEFAULT_CHECK_TIMEOUT_S,
        close_timeout_s: float = DEFAULT_CLOSE_TIMEOUT_S,
    ) -> None:
        server_settings = runtime.settings.server
        self.host = server_settings.host if host is None else host
        self.port = server_settings.grpc_port if port is None else port
        self._reuse_port = server_settings.workers > 1
        self._close_timeout_s = close_timeout_s
        self._tls = (server_settings.grpc_tls_cert, server_settings.grpc_tls_key)
        # Health answers anyone (probes carry no credentials); ``services`` come guarded.
        health = HealthService(runtime, service_names(services), timeout_s=check_timeout_s)
        self._services: list[Servable] = [health, *services]
        self._server: Server | None = None

    @property
    def services(self) -> list[str]:
        """Fully qualified names of the gRPC services served (sorted)."""
        return service_names(self._services)

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("the gRPC server is already running")
        server = Server(self._services)
        await server.start(
            self.host, self.port, reuse_port=self._reuse_port, ssl=tls_context(*self._tls)
        )
        self._server = server
        log.info(
            "gRPC server listening on %s:%d (%s)", self.host, self.port, ", ".join(self.services)
        )

    async def close(self) -> None:
        """Stop accepting connections, cancel running calls, wait for them (bounded).

        Idempotent: safe to call when the server never started or is already closed.
        """
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        try:
            async with asyncio.timeout(self._close_timeout_s):
                await server.wait_closed()
        except TimeoutError:
            log.warning("gRPC server: connections still open after %.1f s", self._close_timeout_s)
        log.info("gRPC server on %s:%d stopped", self.host, self.port)
