"""The shared state backend on Redis (6.2 or later: XAUTOCLAIM).

Every Redis failure leaves this module as StateError. Connection settings
can also come from the URL's query string (``?socket_timeout=0.5``), which
redis-py lets override the defaults below.

The two calls every limited request makes, ``run_script`` (admit) and ``run_batch``
(the end-of-request writes), go over one multiplexed connection per process
(redis_wire.py): redis-py's per-command client CPU was most of admission's cost.
Everything else uses redis-py.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError

from inferia.core.errors import ConfigError, StateError
from inferia.state.base import (
    AtomicScript,
    MessageHandler,
    ScriptArg,
    ScriptCall,
    StateOp,
    StreamMessage,
    Subscription,
)
from inferia.state.redis_errors import REDIS_FAILURES, translate_errors
from inferia.state.redis_pubsub import RedisPubSub
from inferia.state.redis_streams import (
    CLAIM_STALE_LUA,
    CLAIM_STALE_SHA,
    PAYLOAD_FIELD,
    parse_claim_reply,
    parse_read_reply,
    stream_id,
)
from inferia.state.redis_wire import (
    EvalShaPacker,
    MultiplexedConnection,
    RedisEndpoint,
    pack_command,
)

log = logging.getLogger(__name__)


class RedisStateBackend:
    def __init__(
        self,
        url: str,
        *,
        socket_timeout_s: float = 2.0,
        connect_timeout_s: float = 2.0,
        retries: int = 1,
        health_check_interval_s: int = 15,
        max_connections: int = 256,
        client_name: str | None = "inferia",
    ) -> None:
        self._socket_timeout_s = socket_timeout_s
        options: dict[str, Any] = {
            # RESP2 pinned: reply shapes (XREADGROUP, XPENDING) differ under RESP3.
            "protocol": 2,
            "socket_timeout": socket_timeout_s,
            "socket_connect_timeout": connect_timeout_s,
            "health_check_interval": health_check_interval_s,
            "client_name": client_name,
        }
        if not url.lower().startswith("unix:"):
            # TCP only: redis-py's unix socket connection refuses the option.
            options["socket_keepalive"] = True
        try:
            # Retry only connection failures: a timed-out write may have been
            # applied, and replaying a counter script would charge twice.
            # A blocking pool: past max_connections a caller waits (up to the socket
            # timeout) for a free connection; redis-py's default pool raises instead,
            # which under a burst would turn admissions into 503s.
            pool = BlockingConnectionPool.from_url(
                url,
                max_connections=max_connections,
                timeout=socket_timeout_s,
                retry=Retry(
                    ExponentialBackoff(cap=0.1, base=0.01), retries, (RedisConnectionError,)
                ),
                **options,
            )
            self._client: Redis = Redis(connection_pool=pool)
            # The hot path's connection: same URL, timeouts, TLS and client name.
            self._wire = MultiplexedConnection(RedisEndpoint.of_pool(pool))
            self._evalsha_packer = EvalShaPacker()
            # A client of its own for the subscribed connection, with no retries:
            # its reader reconnects itself and logs the outage.
            pubsub_client = Redis.from_url(url, retry=Retry(NoBackoff(), 0), **options)
        except ValueError as exc:
            raise ConfigError(
                f"state.url is not a valid Redis URL: {exc}", param="state.url"
            ) from exc
        self._pubsub_client = pubsub_client
        self._pubsub = RedisPubSub(pubsub_client, socket_timeout_s + connect_timeout_s)
        self._closed = False

    @property
    def shared(self) -> bool:
        return True

    async def start(self) -> None:
        # No failure here: a process may boot before Redis is up; /ready reports it.
        if not await self.ping():
            log.warning(
                "Redis state backend is not reachable yet; operations will fail until it is"
            )

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._wire.close()
        await self._pubsub.close()
        for client in (self._client, self._pubsub_client):
            try:
                await client.aclose()
            except REDIS_FAILURES:
                log.debug("error while closing a Redis client", exc_info=True)

    async def ping(self) -> bool:
        if self._closed:
            return False
        try:
            return bool(await self._client.ping())
        except REDIS_FAILURES:
            return False

    @property
    def _redis(self) -> Redis:
        if self._closed:
            raise StateError("state backend is closed")
        return self._client

    @property
    def _multiplexed(self) -> MultiplexedConnection:
        if self._closed:
            raise StateError("state backend is closed")
        return self._wire

    # Atomic counters -------------------------------------------------------
    async def run_script(
        self, script: AtomicScript, keys: Sequence[str], args: Sequence[ScriptArg]
    ) -> Any:
        wire = self._multiplexed
        try:
            reply = await wire.execute(self._evalsha_packer.pack(script.sha, keys, args))
            if isinstance(reply, NoScriptError):
                # Server restarted or SCRIPT FLUSH: EVAL runs it and caches it again.
                reply = await wire.execute(
                    pack_command(("EVAL", script.lua, len(keys), *keys, *args))
                )
            if isinstance(reply, ResponseError):
                raise reply
        except REDIS_FAILURES as exc:
            raise StateError(f"Redis script {script.name} failed: {exc}") from exc
        return reply

    async def _evalsha(
        self, sha: str, lua: str, keys: Sequence[str], args: Sequence[ScriptArg]
    ) -> Any:
        client = self._redis
        try:
            return await client.evalsha(sha, len(keys), *keys, *args)
        except NoScriptError:
            # Server restarted or SCRIPT FLUSH: EVAL runs it and caches it again.
            return await client.eval(lua, len(keys), *keys, *args)

    async def incr(self, key: str, amount: int = 1, ttl_s: float | None = None) -> int:
        with translate_errors("INCRBY"):
            if ttl_s is None:
                return int(await self._redis.incrby(key, amount))
            async with self._redis.pipeline(transaction=True) as pipe:
                # SET NX sets the TTL only when the key is created; INCRBY keeps it.
                pipe.set(key, 0, nx=True, px=_ms(ttl_s))
                pipe.incrby(key, amount)
                results = await pipe.execute()
            return int(results[-1])

    async def get_int(self, key: str) -> int:
        with translate_errors("GET"):
            raw = await self._redis.get(key)
        if raw is None:
            return 0
        try:
            return int(raw)
        except ValueError as exc:
            raise StateError(f"value at {key!r} is not an integer") from exc

    # Batches -------------------------------------------------------------
    async def run_batch(self, ops: Sequence[StateOp]) -> list[Any]:
        if not ops:
            return []
        wire, count = self._multiplexed, len(ops)
        try:
            # Not a transaction: MULTI/EXEC would add two commands and buy nothing, as
            # every op is atomic on its own.
            packer = self._evalsha_packer
            if count == 1:
                packed = _pack(ops[0], packer)
            else:
                packed = b"".join([_pack(op, packer) for op in ops])
            replies = await wire.execute_many(packed, count)
            # Scripts the server does not have (restart, SCRIPT FLUSH): EVAL runs and
            # caches them again, in one more round trip.
            missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
            if missing:
                again = b"".join([_pack(ops[i], None) for i in missing])
                retried = await wire.execute_many(again, len(missing))
                for i, reply in zip(missing, retried, strict=True):
                    replies[i] = reply
        except REDIS_FAILURES as exc:
            operation = "pipeline" if count > 1 else _op_name(ops[0])
            raise StateError(f"Redis {operation} failed: {exc}") from exc
        return [_batch_result(op, reply) for op, reply in zip(ops, replies, strict=True)]

    # Pub/sub ---------------------------------------------------------------
    async def publish(self, channel: str, message: bytes) -> None:
        with translate_errors("PUBLISH"):
            await self._redis.publish(channel, message)

    async def subscribe(self, channel: str, handler: MessageHandler) -> Subscription:
        if self._closed:
            raise StateError("state backend is closed")
        return await self._pubsub.subscribe(channel, handler)

    # Streams ---------------------------------------------------------------
    async def stream_add(self, stream: str, payload: bytes, maxlen: int | None = None) -> str:
        if maxlen is not None and maxlen < 0:
            raise ValueError("maxlen must be >= 0")
        with translate_errors("XADD"):
            raw_id = await _xadd(self._redis, stream, payload, maxlen)
        return stream_id(raw_id)

    async def stream_ensure_group(self, stream: str, group: str) -> None:
        try:
            # From id 0: messages queued before the first consumer started are kept.
            await self._redis.xgroup_create(stream, group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise StateError(f"Redis XGROUP CREATE failed: {exc}") from exc
        except REDIS_FAILURES as exc:
            raise StateError(f"Redis XGROUP CREATE failed: {exc}") from exc

    async def stream_read(
        self, stream: str, group: str, consumer: str, count: int, block_ms: int = 0
    ) -> list[StreamMessage]:
        if count < 1:
            raise ValueError("count must be >= 1")
        block: int | None = None
        if block_ms > 0:
            # Stay under the socket timeout, or the wait itself would look like a
            # dead connection; callers loop, so a shorter wait is harmless.
            block = max(1, min(block_ms, int(self._socket_timeout_s * 1000) - 100))
        with translate_errors("XREADGROUP"):
            reply = await self._redis.xreadgroup(
                group, consumer, {stream: ">"}, count=count, block=block
            )
        return parse_read_reply(reply)

    async def stream_ack(
        self, stream: str, group: str, ids: Sequence[str], *, delete: bool = False
    ) -> int:
        if not ids:
            return 0
        if not delete:
            with translate_errors("XACK"):
                return int(await self._redis.xack(stream, group, *ids))
        with translate_errors("XACK+XDEL"):
            pipe = self._redis.pipeline(transaction=True)
            pipe.xack(stream, group, *ids)
            pipe.xdel(stream, *ids)
            acked, _ = await pipe.execute()
        return int(acked)

    async def stream_claim_stale(
        self, stream: str, group: str, consumer: str, min_idle_ms: int, count: int
    ) -> list[StreamMessage]:
        if count < 1:
            raise ValueError("count must be >= 1")
        with translate_errors("XAUTOCLAIM"):
            reply = await self._evalsha(
                CLAIM_STALE_SHA, CLAIM_STALE_LUA, [stream], [group, consumer, min_idle_ms, count]
            )
        return parse_claim_reply(reply)


def _xadd(target: Redis, stream: str, payload: bytes, maxlen: int | None) -> Any:
    """XADD on a client (an awaitable) or queued on a pipeline."""
    # Exact trimming: the memory backend matches it and the cost is small.
    return target.xadd(stream, {PAYLOAD_FIELD: payload}, maxlen=maxlen, approximate=False)


def _pack(op: StateOp, evalsha: EvalShaPacker | None) -> bytes:
    """``op`` as a RESP command, the command redis-py would send for it; a script as
    EVALSHA, or as EVAL (its source) without ``evalsha``."""
    if isinstance(op, ScriptCall):
        keys = op.keys
        if evalsha is not None:
            return evalsha.pack(op.script.sha, keys, op.args)
        return pack_command(("EVAL", op.script.lua, len(keys), *keys, *op.args))
    if op.maxlen is None:
        return pack_command(("XADD", op.stream, "*", PAYLOAD_FIELD, op.payload))
    # Exact trimming, as _xadd.
    return pack_command(("XADD", op.stream, "MAXLEN", op.maxlen, "*", PAYLOAD_FIELD, op.payload))


def _op_name(op: StateOp) -> str:
    return f"script {op.script.name}" if isinstance(op, ScriptCall) else "XADD"


def _batch_result(op: StateOp, reply: Any) -> Any:
    """One op's reply as its single-op method would give it, or its StateError."""
    if isinstance(reply, Exception):
        error = StateError(f"Redis {_op_name(op)} failed: {reply}")
        error.__cause__ = reply
        return error
    return reply if isinstance(op, ScriptCall) else stream_id(reply)


def _ms(ttl_s: float) -> int:
    """Seconds to whole milliseconds, never 0 (PX 0 is an error, not 'expire now')."""
    return max(1, math.ceil(ttl_s * 1000))
