"""The orchestration plane's gRPC server, called over a real socket with the
generated grpclib client: the standard health protocol and the Ping RPC."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpclib
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from grpclib.client import Channel
from grpclib.const import Status
from grpclib.exceptions import StreamTerminatedError
from litestar import Litestar
from litestar.datastructures import State
from litestar.testing import AsyncTestClient

from inferia import __version__
from inferia.config import Settings, replace_section
from inferia.contracts.port_set import remote_caller_verifier
from inferia.core.errors import AuthenticationError, ConfigError
from inferia.db import Database
from inferia.orchestration.grpc_api.guard import GuardedService
from inferia.orchestration.grpc_gen.grpc.health.v1 import (
    HealthCheckRequest,
    HealthCheckResponseServingStatus,
    HealthStub,
)
from inferia.orchestration.grpc_gen.inferia.orchestration.v1 import (
    OrchestrationStub,
    PingRequest,
)
from inferia.orchestration.grpc_server import GrpcServer, tls_context
from inferia.orchestration.grpc_services import OrchestrationService
from inferia.orchestration.plane import OrchestrationPlane
from inferia.runtime import Runtime
from inferia.state import MemoryStateBackend
from inferia.tables import all_tables

SERVING = HealthCheckResponseServingStatus.SERVING
NOT_SERVING = HealthCheckResponseServingStatus.NOT_SERVING
SERVICES = ["grpc.health.v1.Health", "inferia.orchestration.v1.Orchestration"]
PLANE_SERVICES = sorted(
    [
        *SERVICES,
        "inferia.orchestration.v1.ComputePoolManagerService",
        "inferia.orchestration.v1.InventoryService",
        "inferia.orchestration.v1.ModelDeploymentService",
        "inferia.orchestration.v1.ModelRegistryService",
    ]
)
GOOD = {"authorization": "Bearer good"}


@dataclass(frozen=True)
class FakeCaller:
    user_id: str = "00000000-0000-0000-0000-000000000001"
    organization_id: str = "00000000-0000-0000-0000-000000000002"
    role: str = "viewer"
    permissions: frozenset[str] = frozenset({"pools:read"})


class FakeVerifier:
    """Knows one token; the real verifiers are exercised end to end."""

    async def authenticate(self, authorization: str | None) -> FakeCaller:
        if authorization != GOOD["authorization"]:
            raise AuthenticationError("invalid or expired access token")
        return FakeCaller()


def guarded_ping(runtime: Any) -> list[GuardedService]:
    return [GuardedService(OrchestrationService(runtime), FakeVerifier())]


class UnreachableState(MemoryStateBackend):
    """A state backend whose ping fails, as a Redis that went away would."""

    async def ping(self) -> bool:
        return False


class FakeDatabase:
    def __init__(self, ping: Callable[[], Awaitable[bool]]) -> None:
        self._ping = ping

    async def ping(self) -> bool:
        return await self._ping()


@dataclass
class FakeRuntime:
    """The slice of inferia.runtime.Runtime the gRPC server uses."""

    settings: Settings
    state: Any = field(default_factory=MemoryStateBackend)
    database: Any = None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def grpc_settings() -> Settings:
    return replace_section(Settings(), "server", host="127.0.0.1", grpc_port=free_port())


def make_runtime(**kwargs: Any) -> FakeRuntime:
    return FakeRuntime(settings=grpc_settings(), **kwargs)


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Awaitable[Channel]]]:
    """Start a GrpcServer for a runtime; hand back a client channel to it."""
    servers: list[GrpcServer] = []
    channels: list[Channel] = []

    async def start(
        runtime: FakeRuntime, client_ssl: ssl.SSLContext | None = None, **kwargs: Any
    ) -> Channel:
        server = GrpcServer(runtime, guarded_ping(runtime), **kwargs)
        await server.start()
        servers.append(server)
        channel = Channel(server.host, server.port, ssl=client_ssl)
        channels.append(channel)
        return channel

    yield start
    for channel in channels:
        channel.close()
    for server in servers:
        await server.close()


async def test_check_is_serving_when_backends_answer(serve: Any) -> None:
    channel = await serve(make_runtime())
    reply = await HealthStub(channel).check(HealthCheckRequest(), timeout=5)
    assert reply.status == SERVING


async def test_check_names_each_served_service(serve: Any) -> None:
    stub = HealthStub(await serve(make_runtime()))
    for service in SERVICES:
        reply = await stub.check(HealthCheckRequest(service=service), timeout=5)
        assert reply.status == SERVING, service


async def test_check_unknown_service_is_not_found(serve: Any) -> None:
    stub = HealthStub(await serve(make_runtime()))
    with pytest.raises(grpclib.GRPCError) as caught:
        await stub.check(HealthCheckRequest(service="no.such.Service"), timeout=5)
    assert caught.value.status == Status.NOT_FOUND


async def test_check_is_not_serving_when_state_ping_fails(serve: Any) -> None:
    channel = await serve(make_runtime(state=UnreachableState()))
    reply = await HealthStub(channel).check(HealthCheckRequest(), timeout=5)
    assert reply.status == NOT_SERVING


async def test_check_is_not_serving_when_database_ping_fails(serve: Any) -> None:
    async def down() -> bool:
        return False

    channel = await serve(make_runtime(database=FakeDatabase(down)))
    reply = await HealthStub(channel).check(HealthCheckRequest(), timeout=5)
    assert reply.status == NOT_SERVING


async def test_check_is_not_serving_when_database_ping_raises(serve: Any) -> None:
    async def broken() -> bool:
        raise ConnectionResetError("gone")

    channel = await serve(make_runtime(database=FakeDatabase(broken)))
    reply = await HealthStub(channel).check(HealthCheckRequest(), timeout=5)
    assert reply.status == NOT_SERVING


async def test_check_answers_not_serving_before_a_hung_database(serve: Any) -> None:
    async def hung() -> bool:
        await asyncio.sleep(60)
        return True

    channel = await serve(make_runtime(database=FakeDatabase(hung)), check_timeout_s=0.2)
    started = time.monotonic()
    reply = await HealthStub(channel).check(HealthCheckRequest(), timeout=5)
    assert reply.status == NOT_SERVING
    assert time.monotonic() - started < 2


async def test_check_follows_the_backend_back_to_serving(serve: Any) -> None:
    up = False

    async def flapping() -> bool:
        return up

    stub = HealthStub(await serve(make_runtime(database=FakeDatabase(flapping))))
    assert (await stub.check(HealthCheckRequest(), timeout=5)).status == NOT_SERVING
    up = True
    assert (await stub.check(HealthCheckRequest(), timeout=5)).status == SERVING


async def test_ping_returns_version_and_planes(serve: Any) -> None:
    runtime = make_runtime()
    channel = await serve(runtime)
    reply = await OrchestrationStub(channel).ping(PingRequest(), timeout=5, metadata=GOOD)
    assert reply.version == __version__
    assert reply.planes == list(runtime.settings.planes)


async def test_ping_discloses_nothing_without_credentials(serve: Any) -> None:
    """Version and planes help an attacker pick exploits: callers must authenticate."""
    stub = OrchestrationStub(await serve(make_runtime()))
    for metadata in (None, {"authorization": "Bearer wrong"}, {"authorization": "good"}):
        with pytest.raises(grpclib.GRPCError) as caught:
            await stub.ping(PingRequest(), timeout=5, metadata=metadata)
        assert caught.value.status == Status.UNAUTHENTICATED
        assert caught.value.message is not None and __version__ not in caught.value.message


async def test_tls_serves_tls_clients_only(serve: Any, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    runtime = FakeRuntime(
        settings=replace_section(grpc_settings(), "server", grpc_tls_cert=cert, grpc_tls_key=key)
    )
    client = ssl.create_default_context(cafile=cert)
    client.set_alpn_protocols(["h2"])
    channel = await serve(runtime, client_ssl=client)
    reply = await HealthStub(channel).check(HealthCheckRequest(), timeout=5)
    assert reply.status == SERVING
    assert (await OrchestrationStub(channel).ping(timeout=5, metadata=GOOD)).planes
    plain = Channel("127.0.0.1", runtime.settings.server.grpc_port)
    try:
        with pytest.raises((OSError, grpclib.GRPCError, StreamTerminatedError, TimeoutError)):
            await HealthStub(plain).check(HealthCheckRequest(), timeout=3)
    finally:
        plain.close()


def test_tls_needs_both_files_and_usable_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="go together"):
        tls_context("cert.pem", "")
    (tmp_path / "junk.pem").write_text("not a certificate")
    junk = str(tmp_path / "junk.pem")
    with pytest.raises(ConfigError, match="unusable"):
        tls_context(junk, junk)


def self_signed(directory: Path) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


async def test_two_workers_share_the_port() -> None:
    """granian workers each start a server on the same port (SO_REUSEPORT)."""
    runtime = FakeRuntime(settings=replace_section(grpc_settings(), "server", workers=2))
    first, second = GrpcServer(runtime), GrpcServer(runtime)
    await first.start()
    try:
        await second.start()
        await first.close()
        channel = Channel(runtime.settings.server.host, runtime.settings.server.grpc_port)
        try:
            reply = await HealthStub(channel).check(HealthCheckRequest(), timeout=5)
        finally:
            channel.close()
        assert reply.status == SERVING
    finally:
        await first.close()
        await second.close()


async def test_with_one_worker_the_port_is_not_shared() -> None:
    """A second process on the port of a one-worker server fails at start-up."""
    runtime = make_runtime()
    first, second = GrpcServer(runtime), GrpcServer(runtime)
    await first.start()
    try:
        with pytest.raises(OSError):
            await second.start()
    finally:
        await first.close()
        await second.close()


async def test_close_is_prompt_with_a_client_connected_and_refuses_after() -> None:
    runtime = make_runtime()
    server = GrpcServer(runtime, close_timeout_s=2)
    await server.start()
    channel = Channel(server.host, server.port)
    try:
        assert (await HealthStub(channel).check(HealthCheckRequest(), timeout=5)).status == SERVING
        started = time.monotonic()
        await server.close()
        assert time.monotonic() - started < 3
        assert not server.running
        await server.close()  # idempotent, as runtime stop hooks must be
        fresh = Channel(server.host, server.port)
        try:
            with pytest.raises((ConnectionError, OSError, grpclib.GRPCError)):
                await HealthStub(fresh).check(HealthCheckRequest(), timeout=2)
        finally:
            fresh.close()
    finally:
        channel.close()


async def test_close_before_start_is_a_no_op() -> None:
    await GrpcServer(make_runtime()).close()


async def test_plane_serves_grpc_for_the_app_lifetime_and_lists_it(tmp_path: Path) -> None:
    """The plane's hooks run in the real Runtime's lifespan, as app.py wires them."""
    settings = replace_section(grpc_settings(), "security", encryption_key="k" * 32)
    database = Database(settings.database, tmp_path, all_tables())
    runtime = Runtime(settings=settings, state=MemoryStateBackend(), database=database)
    # As in a process without the filtration plane: callers are verified over /internal.
    plane = OrchestrationPlane(runtime, remote_caller_verifier(runtime))
    app = Litestar(
        route_handlers=plane.routes(),
        lifespan=[runtime.lifespan],
        state=State({"runtime": runtime}),
    )
    port = runtime.settings.server.grpc_port
    assert not plane.grpc.running
    async with AsyncTestClient(app) as client:
        response = await client.get("/inventory/grpc")
        assert response.status_code == 200
        assert response.json() == {"grpc_port": port, "services": PLANE_SERVICES}

        channel = Channel("127.0.0.1", port)
        try:
            with pytest.raises(grpclib.GRPCError) as anonymous:
                await OrchestrationStub(channel).ping(PingRequest(), timeout=5)
            health = await HealthStub(channel).check(HealthCheckRequest(), timeout=5)
        finally:
            channel.close()
        assert anonymous.value.status == Status.UNAUTHENTICATED
        assert health.status == SERVING
    assert not plane.grpc.running
