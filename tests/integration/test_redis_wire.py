"""The multiplexed Redis connection that carries the per-request state calls.

On a real Redis (INFERIA_TEST_REDIS_URL's database + 6, tests/services.py): directly, and
through relays the tests control (cut, stalled, a unix socket, TLS), and against a
server that accepts connections but never answers. Every test runs on asyncio's own loop and on
uvloop (the one the server runs on).
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
import time
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis.asyncio as aioredis
import uvloop
from redis.asyncio import ConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from inferia.core.errors import StateError
from inferia.state import SLIDING_WINDOW_ADMIT, RedisStateBackend, ScriptCall, StreamAppend
from inferia.state.redis_wire import MultiplexedConnection, RedisEndpoint, pack_command
from tests.services import redis_db, redis_db_url
from tests.state_support import delete_keys

REDIS_DB = 6  # a slot: INFERIA_TEST_REDIS_URL's database + 6 (tests/services.py)
Runner = Callable[[Coroutine[Any, Any, None]], None]


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Runner:
    redis_db_url(REDIS_DB)  # skips (or fails in CI) without Redis
    return asyncio.run if request.param == "asyncio" else uvloop.run


def _connection(
    url: str, *, timeout_s: float = 1.0, client_name: str | None = None
) -> MultiplexedConnection:
    pool = ConnectionPool.from_url(
        url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, client_name=client_name
    )
    return MultiplexedConnection(RedisEndpoint.of_pool(pool))


def _echo(text: str) -> bytes:
    return pack_command(("ECHO", text))


def _admit(key: str, limit: int = 10) -> tuple[Any, ...]:
    return (SLIDING_WINDOW_ADMIT, [key], [limit, 60_000, 1])


def _redis_port() -> int:
    return urlsplit(redis_db_url(REDIS_DB)).port or 6379


class Relay:
    """A relay to Redis (TCP, a unix socket, or TLS in front) the test can stall and cut."""

    def __init__(self, *, path: str | None = None, tls: ssl.SSLContext | None = None) -> None:
        self.port = 0
        self._path, self._tls = path, tls
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._flowing = asyncio.Event()

    async def start(self) -> Relay:
        """Listen (again, on the same port) and forward."""
        self._flowing.set()
        if self._path is not None:
            self._server = await asyncio.start_unix_server(self._serve, self._path)
        else:
            self._server = await asyncio.start_server(
                self._serve, "localhost", self.port, ssl=self._tls
            )
            self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stall(self) -> None:
        """Requests are held, as by a Redis that stopped answering."""
        self._flowing.clear()

    async def cut(self) -> None:
        """Redis goes away: open connections reset, new ones refused."""
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", _redis_port())
        self._writers += [writer, up_writer]
        await asyncio.gather(
            self._pump(reader, up_writer, hold=True),
            self._pump(up_reader, writer, hold=False),
            return_exceptions=True,
        )

    async def _pump(
        self, source: asyncio.StreamReader, target: asyncio.StreamWriter, *, hold: bool
    ) -> None:
        try:
            while data := await source.read(65536):
                if hold:
                    await self._flowing.wait()
                target.write(data)
        finally:
            target.transport.abort()


async def _client_list(name: str) -> list[dict[str, Any]]:
    admin = aioredis.Redis.from_url(redis_db_url(0))
    try:
        clients: list[dict[str, Any]] = await admin.client_list()
    finally:
        await admin.aclose()
    return [c for c in clients if c["name"] == name]


# Sharing one connection ---------------------------------------------------------------


def test_concurrent_callers_get_their_own_replies_over_one_connection(run: Runner) -> None:
    async def scenario() -> None:
        name = f"t{uuid.uuid4().hex[:12]}"
        connection = _connection(redis_db_url(REDIS_DB), client_name=name)
        try:
            singles = [connection.execute(_echo(f"one-{i}")) for i in range(300)]
            batches = [
                connection.execute_many(_echo(f"a-{i}") + _echo(f"b-{i}") + _echo(f"c-{i}"), 3)
                for i in range(100)
            ]
            replies = await asyncio.gather(*singles, *batches)
            assert replies[:300] == [f"one-{i}".encode() for i in range(300)]
            assert replies[300:] == [[f"{p}-{i}".encode() for p in "abc"] for i in range(100)]
            [client] = await _client_list(name)  # all of it on one connection
            assert client["db"] == str(redis_db(REDIS_DB))
        finally:
            await connection.close()

    run(scenario())


def test_a_call_is_written_when_made_not_when_awaited(run: Runner) -> None:
    async def scenario() -> None:
        connection = _connection(redis_db_url(REDIS_DB))
        try:
            assert await connection.execute(_echo("open")) == b"open"
            # On an open connection: the reply's future, the command already written.
            first = connection.execute(_echo("first"))
            batch = connection.execute_many(_echo("a") + _echo("b"), 2)
            assert isinstance(first, asyncio.Future) and isinstance(batch, asyncio.Future)
            assert await connection.execute(_echo("last")) == b"last"
            assert first.done() and batch.done()  # answered in the order written
            assert await first == b"first" and await batch == [b"a", b"b"]
            assert await connection.execute_many(_echo("one"), 1) == [b"one"]
        finally:
            await connection.close()

    run(scenario())


def test_a_connection_of_a_finished_loop_is_replaced(run: Runner) -> None:
    connection = _connection(redis_db_url(REDIS_DB))

    async def call(text: str) -> None:
        assert await connection.execute(_echo(text)) == text.encode()
        assert await connection.execute_many(_echo("a") + _echo(text), 2) == [b"a", text.encode()]

    try:
        for text in ("first loop", "second loop", "third loop"):
            run(call(text))  # each on a new loop: a new connection
    finally:
        run(connection.close())


def test_a_cancelled_caller_does_not_shift_the_others_replies(run: Runner) -> None:
    async def scenario() -> None:
        url = redis_db_url(REDIS_DB)
        key = f"inferia-test:{uuid.uuid4().hex}:list"
        connection = _connection(url, timeout_s=5.0)
        client = aioredis.Redis.from_url(url)
        try:
            # BLPOP holds the connection: the ECHO written after it waits behind it.
            blocked = asyncio.ensure_future(connection.execute(pack_command(("BLPOP", key, 5))))
            after = asyncio.ensure_future(connection.execute(_echo("after")))
            await asyncio.sleep(0.1)
            assert not blocked.done() and not after.done()
            blocked.cancel()
            await client.lpush(key, "popped")  # BLPOP answers now; nobody wants the reply
            assert await after == b"after"
            assert await connection.execute(_echo("next")) == b"next"
            assert await connection.execute_many(_echo("x") + _echo("y"), 2) == [b"x", b"y"]
            assert blocked.cancelled()
            assert await client.llen(key) == 0  # the command itself did run
        finally:
            await connection.close()
            await client.delete(key)
            await client.aclose()

    run(scenario())


def test_error_replies_are_each_calls_own(run: Runner) -> None:
    async def scenario() -> None:
        key = f"inferia-test:{uuid.uuid4().hex}:k"
        connection = _connection(redis_db_url(REDIS_DB))
        try:
            replies = await connection.execute_many(
                pack_command(("SET", key, "text"))
                + pack_command(("INCR", key))  # not an integer: an error reply
                + _echo("fine"),
                3,
            )
            assert replies[0] == b"OK" and replies[2] == b"fine"
            assert "not an integer" in str(replies[1])
            assert await connection.execute(pack_command(("DEL", key))) == 1
        finally:
            await connection.close()

    run(scenario())


# Failures --------------------------------------------------------------------------


def test_redis_going_away_fails_pending_calls_and_the_next_call_reconnects(run: Runner) -> None:
    async def scenario() -> None:
        relay = await Relay().start()
        prefix = f"inferia-test:{uuid.uuid4().hex}:"
        backend = RedisStateBackend(
            f"redis://localhost:{relay.port}/{redis_db(REDIS_DB)}",
            socket_timeout_s=2,
            connect_timeout_s=1,
        )
        try:
            assert list(await backend.run_script(*_admit(f"{prefix}rl"))) == [1, 9, 0]
            relay.stall()
            pending = asyncio.ensure_future(backend.run_script(*_admit(f"{prefix}rl")))
            await asyncio.sleep(0.1)
            assert not pending.done()
            started = time.monotonic()
            await relay.cut()
            with pytest.raises(StateError, match="Redis script sliding_window_admit failed"):
                await pending
            assert time.monotonic() - started < 1  # the lost connection, not the timeout
            # While Redis is down: every call fails, as a whole.
            with pytest.raises(StateError, match="Redis script sliding_window_admit failed"):
                await backend.run_script(*_admit(f"{prefix}rl"))
            with pytest.raises(StateError, match="Redis pipeline failed"):
                await backend.run_batch(
                    [ScriptCall(*_admit(f"{prefix}rl")), StreamAppend(f"{prefix}s", b"p")]
                )
            with pytest.raises(StateError, match="Redis XADD failed"):
                await backend.run_batch([StreamAppend(f"{prefix}s", b"p")])

            await relay.start()  # Redis is back on the same port
            # The stalled call never reached Redis: one unit charged so far, now two.
            assert list(await backend.run_script(*_admit(f"{prefix}rl"))) == [1, 8, 0]
            results = await backend.run_batch(
                [ScriptCall(*_admit(f"{prefix}rl")), StreamAppend(f"{prefix}s", b"p")]
            )
            assert list(results[0]) == [1, 7, 0] and isinstance(results[1], str)
        finally:
            await backend.close()
            await relay.cut()
            client = aioredis.Redis.from_url(redis_db_url(REDIS_DB))
            await client.delete(f"{prefix}rl", f"{prefix}s")
            await client.aclose()

    run(scenario())


def test_a_connection_redis_closed_is_replaced_before_the_next_call(run: Runner) -> None:
    async def scenario() -> None:
        name = f"t{uuid.uuid4().hex[:12]}"
        connection = _connection(redis_db_url(REDIS_DB), client_name=name)
        admin = aioredis.Redis.from_url(redis_db_url(0))
        try:
            assert await connection.execute(_echo("before")) == b"before"
            [old] = await _client_list(name)
            await admin.client_kill_filter(_id=old["id"])  # as a Redis restart would
            await asyncio.sleep(0.05)
            # Not an error: the hang-up was seen, so this call opens a new connection.
            assert await connection.execute(_echo("after")) == b"after"
            [new] = await _client_list(name)
            assert new["id"] != old["id"]
        finally:
            await connection.close()
            await admin.aclose()

    run(scenario())


def test_a_server_that_never_answers_times_out_every_pending_call(run: Runner) -> None:
    async def scenario() -> None:
        accepted: list[asyncio.Event] = []  # each set once the client hung up

        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            hung_up = asyncio.Event()
            accepted.append(hung_up)
            try:
                while await reader.read(65536):  # reads, never answers
                    pass
            except ConnectionError:
                pass
            hung_up.set()
            writer.close()

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        connection = _connection(f"redis://127.0.0.1:{port}/0", timeout_s=0.3)
        try:
            started = time.monotonic()
            first = asyncio.ensure_future(connection.execute(_echo("a")))
            await asyncio.sleep(0.15)
            second = asyncio.ensure_future(connection.execute_many(_echo("b") + _echo("c"), 2))
            with pytest.raises(RedisTimeoutError, match="Timeout reading"):
                await first
            with pytest.raises(RedisTimeoutError):  # failed with the connection
                await second
            assert 0.3 <= time.monotonic() - started < 0.6
            await asyncio.wait_for(accepted[0].wait(), 1)  # the connection was dropped

            # The next call opens a new connection (and times out there too).
            with pytest.raises(RedisTimeoutError):
                await connection.execute(_echo("d"))
            assert len(accepted) == 2

            # On the backend: StateError, whether the handshake (CLIENT SETNAME) or the
            # call itself is what goes unanswered.
            url = f"redis://127.0.0.1:{port}/0"
            for name in ("inferia", None):
                backend = RedisStateBackend(
                    url, socket_timeout_s=0.3, connect_timeout_s=0.3, client_name=name
                )
                try:
                    with pytest.raises(StateError, match="sliding_window_admit failed: Timeout"):
                        await backend.run_script(*_admit("k"))
                    with pytest.raises(StateError, match="Redis XADD failed: Timeout"):
                        await backend.run_batch([StreamAppend("s", b"p")])
                finally:
                    await backend.close()
        finally:
            await connection.close()
            server.close()

    run(scenario())


def test_closing_fails_waiting_calls_with_a_connection_error(run: Runner) -> None:
    async def scenario() -> None:
        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while await reader.read(65536):
                pass

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        url = f"redis://127.0.0.1:{server.sockets[0].getsockname()[1]}/0"
        try:
            # Waiting for a reply, and waiting for the connect (CLIENT SETNAME unanswered).
            for client_name in (None, "inferia"):
                connection = _connection(url, timeout_s=5.0, client_name=client_name)
                waiting = asyncio.ensure_future(connection.execute(_echo("a")))
                await asyncio.sleep(0.1)
                started = time.monotonic()
                await connection.close()
                with pytest.raises(RedisConnectionError, match="closed by the client"):
                    await waiting
                assert time.monotonic() - started < 1
                with pytest.raises(RedisConnectionError):
                    await connection.execute(_echo("b"))
        finally:
            server.close()

    run(scenario())


def test_nothing_listening_is_a_connection_error(run: Runner) -> None:
    async def scenario() -> None:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        connection = _connection(f"redis://127.0.0.1:{port}/0")
        try:
            calls = [connection.execute(_echo(str(i))) for i in range(5)]
            results = await asyncio.gather(*calls, return_exceptions=True)
            assert all(isinstance(r, RedisConnectionError) for r in results)
            assert "Error connecting to 127.0.0.1" in str(results[0])
        finally:
            await connection.close()

    run(scenario())


# What the URL says ---------------------------------------------------------------------


def test_credentials_database_and_client_name_come_from_the_url(run: Runner) -> None:
    async def scenario() -> None:
        base = urlsplit(redis_db_url(REDIS_DB))
        user, password = f"inferia-test-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
        key, name = f"inferia-test:{uuid.uuid4().hex}:rl", f"t{uuid.uuid4().hex[:12]}"
        admin = aioredis.Redis.from_url(redis_db_url(REDIS_DB))
        await admin.acl_setuser(
            user, enabled=True, passwords=[f"+{password}"], keys=["*"], commands=["+@all"]
        )

        def url_as(secret: str) -> str:
            netloc = f"{user}:{secret}@{base.hostname}:{base.port or 6379}"
            return urlunsplit(base._replace(netloc=netloc))

        backend = RedisStateBackend(url_as(password), client_name=name)
        wrong = RedisStateBackend(url_as("wrong"), client_name=name)
        try:
            assert list(await backend.run_script(*_admit(key))) == [1, 9, 0]
            assert await admin.exists(key) == 1  # in the URL's database
            [client] = await _client_list(name)
            assert (client["user"], client["db"]) == (user, str(redis_db(REDIS_DB)))
            with pytest.raises(StateError, match="sliding_window_admit failed"):
                await wrong.run_script(*_admit(key))
        finally:
            await backend.close()
            await wrong.close()
            await admin.acl_deluser(user)
            await admin.delete(key)
            await admin.aclose()

    run(scenario())


def test_a_unix_socket_url(run: Runner, tmp_path: Path) -> None:
    async def scenario() -> None:
        path = str(tmp_path / "redis.sock")
        relay = await Relay(path=path).start()
        key = f"inferia-test:{uuid.uuid4().hex}:rl"
        backend = RedisStateBackend(f"unix://{path}?db={redis_db(REDIS_DB)}")
        try:
            assert list(await backend.run_script(*_admit(key))) == [1, 9, 0]
            assert await backend.incr(f"{key}:n") == 1  # and redis-py's connections
            await delete_keys(backend, key, f"{key}:n")
        finally:
            await backend.close()
            await relay.cut()

    run(scenario())


def test_a_rediss_url(run: Runner, tmp_path: Path) -> None:
    certificate, private_key = _self_signed_certificate(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(certificate, private_key)

    async def scenario() -> None:
        relay = await Relay(tls=server_tls).start()
        key = f"inferia-test:{uuid.uuid4().hex}:rl"
        url = f"rediss://localhost:{relay.port}/{redis_db(REDIS_DB)}?ssl_ca_certs={certificate}"
        backend = RedisStateBackend(url)
        untrusted = RedisStateBackend(f"rediss://localhost:{relay.port}/{redis_db(REDIS_DB)}")
        try:
            assert list(await backend.run_script(*_admit(key))) == [1, 9, 0]
            assert await backend.incr(f"{key}:n") == 1  # and redis-py's connections
            await delete_keys(backend, key, f"{key}:n")
            with pytest.raises(StateError, match="CERTIFICATE_VERIFY_FAILED"):
                await untrusted.run_script(*_admit(key))
        finally:
            await backend.close()
            await untrusted.close()
            await relay.cut()

    run(scenario())


def _self_signed_certificate(directory: Path) -> tuple[str, str]:
    """A certificate for localhost / 127.0.0.1 and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = directory / "redis.crt", directory / "redis.key"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(certificate_path), str(key_path)
