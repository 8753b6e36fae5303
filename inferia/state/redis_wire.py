"""One multiplexed Redis connection for the per-request calls (admit, end-of-request batch).

redis-py costs ~0.08-0.1 ms of client CPU per command (pool checkout and release,
retry and observability wrappers). Here every concurrent caller shares one
connection: a call writes its packed command(s) in one ``transport.write`` and awaits
a future; replies, parsed by hiredis, complete the futures in the order the calls
were written (Redis answers in order). A caller cancelled while it waits leaves its
entry in the queue, so its reply is read and dropped and the others keep their own.

A connection failure, or a reply later than the socket timeout, fails every pending
call with redis-py's ConnectionError / TimeoutError (the backend turns them into
StateError, as it does redis-py's) and drops the connection; the next call opens a
new one. One watchdog timer per connection checks the oldest call, so a call arms no
timer of its own.
"""

from __future__ import annotations

import asyncio
import socket
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from ssl import SSLContext
from typing import Any, cast

import hiredis
from redis._parsers.base import BaseParser
from redis.asyncio import ConnectionPool
from redis.asyncio.connection import SSLConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError


@dataclass(frozen=True, slots=True)
class RedisEndpoint:
    """Where and as whom to connect: what redis-py parsed from the backend's URL."""

    address: str  # host:port or the socket path, for messages
    host: str
    port: int
    path: str | None
    ssl: Callable[[], SSLContext] | None  # built (and cached by redis-py) on first connect
    username: str | None
    password: str | None
    db: int
    client_name: str | None
    connect_timeout_s: float
    reply_timeout_s: float

    @classmethod
    def of_pool(cls, pool: ConnectionPool) -> RedisEndpoint:
        """The endpoint of ``pool``'s connections: its URL, query-string options and
        TLS settings, as redis-py resolved them (a connection object is made, unopened)."""
        conn: Any = pool.connection_class(**pool.connection_kwargs)
        path = getattr(conn, "path", None)
        reply_timeout = conn.socket_timeout or 2.0
        return cls(
            address=path or f"{conn.host}:{conn.port}",
            host="" if path else conn.host,
            port=0 if path else int(conn.port),
            path=path,
            ssl=conn.ssl_context.get if isinstance(conn, SSLConnection) else None,
            username=conn.username,
            password=conn.password,
            db=int(conn.db or 0),
            client_name=conn.client_name,
            connect_timeout_s=conn.socket_connect_timeout or reply_timeout,
            reply_timeout_s=reply_timeout,
        )


class MultiplexedConnection:
    """One lazily opened connection shared by every caller on the running loop.

    A connection belongs to the loop that opened it; one whose loop no longer runs (a
    test's finished loop) is replaced. Checking that its loop runs is checking that it
    is the running loop (one loop runs in a thread at a time), at a tenth of the cost
    of ``asyncio.get_running_loop()``.
    """

    def __init__(self, endpoint: RedisEndpoint) -> None:
        self.endpoint = endpoint
        self._protocol: ReplyProtocol | None = None
        self._connecting: asyncio.Task[ReplyProtocol] | None = None
        self._closed = False
        self._opening: ReplyProtocol | None = None  # connected, handshake under way

    def execute(self, packed: bytes) -> Awaitable[Any]:
        """Send one packed command; await its reply. An error reply is returned as
        redis-py's exception (ResponseError, NoScriptError...), not raised.

        On an open connection the command is written now and the reply's future is
        returned: no coroutine of its own on the request path."""
        protocol = self._protocol
        if protocol is None or protocol.failed or not protocol.loop.is_running():
            return self._send_connected(packed, None)
        return protocol.send(packed, None)

    def execute_many(self, packed: bytes, count: int) -> Awaitable[list[Any]]:
        """Send ``count`` packed commands in one write; await their replies, in order."""
        protocol = self._protocol
        if protocol is None or protocol.failed or not protocol.loop.is_running():
            return self._send_connected(packed, count)
        return protocol.send(packed, count)

    async def _send_connected(self, packed: bytes, count: int | None) -> Any:
        protocol = await self._connected()
        return await protocol.send(packed, count)

    async def close(self) -> None:
        """Fail every pending call (and a handshake under way); later calls fail too."""
        self._closed = True
        loop = asyncio.get_running_loop()
        for protocol in (self._protocol, self._opening):
            # A protocol of another (finished) loop cannot be touched from this one.
            if protocol is not None and protocol.loop is loop:
                protocol.fail(RedisConnectionError("Connection closed by the client."))
        self._protocol = None

    async def _connected(self) -> ReplyProtocol:
        if self._closed:
            raise RedisConnectionError("Connection closed by the client.")
        self._protocol = None  # failed, or bound to another loop
        task = self._connecting
        if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
            task = self._connecting = asyncio.ensure_future(self._connect())
            task.add_done_callback(_retrieve)
        # Shielded: a cancelled caller does not cancel the connect the others wait for.
        return await asyncio.shield(task)

    async def _connect(self) -> ReplyProtocol:
        end, loop = self.endpoint, asyncio.get_running_loop()
        transport: asyncio.Transport | None = None
        try:
            async with asyncio.timeout(end.connect_timeout_s):
                ssl = end.ssl() if end.ssl is not None else None
                if end.path:
                    transport, protocol = await loop.create_unix_connection(
                        lambda: ReplyProtocol(loop, end), end.path, ssl=ssl
                    )
                else:
                    transport, protocol = await loop.create_connection(
                        lambda: ReplyProtocol(loop, end), end.host, end.port, ssl=ssl
                    )
                    sock = transport.get_extra_info("socket")
                    if sock is not None:
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                self._opening = protocol
                handshake = _handshake(end)
                if handshake:
                    packed = b"".join(pack_command(command) for command in handshake)
                    for reply in await protocol.send(packed, len(handshake)):
                        if isinstance(reply, RedisError):
                            raise reply  # e.g. AuthenticationError
        except BaseException as exc:
            if transport is not None:
                transport.abort()
            if isinstance(exc, TimeoutError):
                raise RedisTimeoutError(f"Timeout connecting to {end.address}") from exc
            if isinstance(exc, OSError):
                raise RedisConnectionError(f"Error connecting to {end.address}: {exc}") from exc
            raise
        finally:
            self._connecting = self._opening = None
        if self._closed:
            protocol.fail(RedisConnectionError("Connection closed by the client."))
            raise RedisConnectionError("Connection closed by the client.")
        self._protocol = protocol
        return protocol


def _handshake(end: RedisEndpoint) -> list[tuple[str | int, ...]]:
    commands: list[tuple[str | int, ...]] = []
    if end.password:
        if end.username:
            commands.append(("AUTH", end.username, end.password))
        else:
            commands.append(("AUTH", end.password))
    if end.client_name:
        commands.append(("CLIENT", "SETNAME", end.client_name))
    if end.db:
        commands.append(("SELECT", end.db))
    return commands


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a failed connect as seen, should every caller waiting for it be cancelled."""
    if not task.cancelled():
        task.exception()


# A command (str, bytes, int, float arguments) as RESP; floats as repr(), like redis-py.
# hiredis's stub types the argument as a 1-tuple; any length is what it takes.
pack_command: Callable[[tuple[Any, ...]], bytes] = hiredis.pack_command

_PREFIXES_MAX = 4096


class EvalShaPacker:
    """``EVALSHA sha numkeys *keys *args`` as RESP, the bytes ``pack_command`` makes.

    The part before the arguments (the script's sha and the keys) is packed once per
    key tuple and kept (up to a few thousand; the admit step's keys are one tuple per
    plan, reused by every request of that key and model), so a call packs only its
    arguments. Keys given as a list are packed whole, each time.
    """

    def __init__(self) -> None:
        # (sha, keys) -> (number of args, the array header and everything up to the
        # args, the length of the args' own array header "*<n>\r\n")
        self._prefixes: dict[tuple[str, tuple[str, ...]], tuple[int, bytes, int]] = {}

    def pack(self, sha: str, keys: Sequence[str], args: Sequence[Any]) -> bytes:
        if type(keys) is not tuple or not args:
            return pack_command(("EVALSHA", sha, len(keys), *keys, *args))
        cache_key = (sha, keys)
        found = self._prefixes.get(cache_key)
        if found is None or found[0] != len(args):
            prefix = pack_command(("EVALSHA", sha, len(keys), *keys))
            header = b"*%d\r\n" % (3 + len(keys) + len(args))
            body = prefix[prefix.index(b"\r\n") + 2 :]
            found = (len(args), header + body, len(b"*%d\r\n" % len(args)))
            if len(self._prefixes) >= _PREFIXES_MAX:
                self._prefixes.clear()
            self._prefixes[cache_key] = found
        # The arguments (a tuple is packed as is) without their own array header.
        return found[1] + pack_command(tuple(args))[found[2] :]


class ReplyProtocol(asyncio.Protocol):
    """The connection's reading side: each reply completes the oldest pending call."""

    def __init__(self, loop: asyncio.AbstractEventLoop, endpoint: RedisEndpoint) -> None:
        self.loop = loop
        self.failed = False
        self.endpoint = endpoint
        self._timeout_s = endpoint.reply_timeout_s
        self._transport: asyncio.Transport | None = None
        # Error replies become redis-py's own exceptions (NoScriptError, ResponseError...).
        self._reader = hiredis.Reader(replyError=BaseParser.parse_error)
        # (future, number of replies or None for one reply not in a list, sent at);
        # replies of a batch gather in _partial.
        self._pending: deque[tuple[asyncio.Future[Any], int | None, float]] = deque()
        self._partial: list[Any] = []
        self._watchdog: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, but are one.
        self._transport = cast(asyncio.Transport, transport)

    def send(self, packed: bytes, count: int | None) -> asyncio.Future[Any]:
        """Write ``packed``; the future of its reply (``count`` None), or of the list of
        its ``count`` replies."""
        if self.failed or self._transport is None:
            raise RedisConnectionError(f"Connection to {self.endpoint.address} is closed.")
        future = self.loop.create_future()
        now = self.loop.time()
        try:
            self._transport.write(packed)
        except RuntimeError as exc:  # uvloop: the transport is closing (Redis hung up)
            self.fail(RedisConnectionError(f"Connection to {self.endpoint.address} lost."))
            raise RedisConnectionError(f"Connection to {self.endpoint.address} lost.") from exc
        self._pending.append((future, count, now))
        if self._watchdog is None:
            self._watchdog = self.loop.call_at(now + self._timeout_s, self._check_oldest)
        return future

    def data_received(self, data: bytes) -> None:
        reader, pending = self._reader, self._pending
        reader.feed(data)
        try:
            while (reply := reader.gets()) is not False:
                future, count, _ = pending[0]
                if count is not None:
                    self._partial.append(reply)
                    if len(self._partial) < count:
                        continue
                    reply, self._partial = self._partial, []
                pending.popleft()
                if not future.done():  # else its caller was cancelled: dropped
                    future.set_result(reply)
        except (hiredis.ProtocolError, IndexError) as exc:  # garbage, or a reply nobody asked for
            self.fail(RedisConnectionError(f"Protocol error from {self.endpoint.address}: {exc!r}"))

    def eof_received(self) -> bool:
        # Redis closed the connection (restart, client timeout, CLIENT KILL): fail now,
        # not at the next write.
        self.fail(RedisConnectionError(f"Connection to {self.endpoint.address} closed by server."))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        detail = f": {exc}" if exc else "."
        self.fail(RedisConnectionError(f"Connection to {self.endpoint.address} lost{detail}"))

    def fail(self, error: RedisError) -> None:
        """Close the connection and fail every pending call with (a copy of) ``error``."""
        if self.failed:
            return
        self.failed = True
        if self._watchdog is not None:
            self._watchdog.cancel()
        if self._transport is not None:
            self._transport.abort()
        pending, self._pending = self._pending, deque()
        for future, _, _ in pending:
            if not future.done():
                future.set_exception(type(error)(*error.args))

    def _check_oldest(self) -> None:
        self._watchdog = None
        if not self._pending:
            return  # the next call arms it again
        deadline = self._pending[0][2] + self._timeout_s
        if self.loop.time() < deadline:
            self._watchdog = self.loop.call_at(deadline, self._check_oldest)
        else:
            self.fail(RedisTimeoutError(f"Timeout reading from {self.endpoint.address}"))
