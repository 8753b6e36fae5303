"""The state backend, one behaviour suite run on memory and on a real Redis.

Redis comes from INFERIA_TEST_REDIS_URL (default redis://127.0.0.1:6379/0).
Unreachable Redis skips the Redis cases locally and fails them when CI=true.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import pytest
import redis.asyncio as aioredis

from inferia.core.errors import ConfigError, StateError
from inferia.state import (
    EVERYTHING_CHANGED,
    SLIDING_WINDOW_ADMIT,
    AtomicScript,
    MemoryStateBackend,
    RedisStateBackend,
    ScriptCall,
    StateBackend,
    StreamAppend,
    StreamMessage,
    build_state_backend,
)
from inferia.state.stream_consumer import StreamConsumer
from tests.services import unavailable
from tests.state_support import StateCache, pending_count, stream_length

REDIS_URL = os.environ.get("INFERIA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_backend(**options: object) -> RedisStateBackend:
    settings: dict[str, object] = {"socket_timeout_s": 1.0, "connect_timeout_s": 0.5}
    settings.update(options)
    return RedisStateBackend(REDIS_URL, **settings)  # type: ignore[arg-type]


async def _require_redis(backend: RedisStateBackend) -> None:
    if await backend.ping():
        return
    await backend.close()
    unavailable(f"Redis is not reachable at {REDIS_URL} (set INFERIA_TEST_REDIS_URL)")


async def _drop_keys(prefix: str) -> None:
    client = aioredis.Redis.from_url(REDIS_URL, socket_timeout=1.0)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
def prefix() -> str:
    """A key prefix of this test's own, so parallel runs never share keys."""
    return f"inferia-test:{uuid.uuid4().hex}:"


@pytest.fixture(params=["memory", "redis"])
async def state_backend(request: pytest.FixtureRequest, prefix: str) -> AsyncIterator[StateBackend]:
    backend: StateBackend
    if request.param == "memory":
        backend = MemoryStateBackend()
    else:
        backend = _redis_backend()
        await _require_redis(backend)
    await backend.start()
    try:
        yield backend
    finally:
        await backend.close()
        if request.param == "redis":
            await _drop_keys(prefix)


@pytest.fixture
async def redis_backends(prefix: str) -> AsyncIterator[Callable[..., Awaitable[RedisStateBackend]]]:
    """Makes independent Redis backends (as separate processes would have)."""
    made: list[RedisStateBackend] = []

    async def make(**options: object) -> RedisStateBackend:
        backend = _redis_backend(**options)
        await _require_redis(backend)
        await backend.start()
        made.append(backend)
        return backend

    try:
        yield make
    finally:
        for backend in made:
            await backend.close()
        if made:
            await _drop_keys(prefix)


async def _eventually(condition: Callable[[], bool], timeout_s: float = 3.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


# Sliding-window admission ---------------------------------------------------


async def test_sliding_window_admits_exactly_the_limit_of_concurrent_attempts(
    state_backend: StateBackend, prefix: str
) -> None:
    key, limit, window_ms = f"{prefix}rl", 7, 60_000
    results = await asyncio.gather(
        *(
            state_backend.run_script(SLIDING_WINDOW_ADMIT, [key], [limit, window_ms, 1])
            for _ in range(40)
        )
    )
    admitted = [r for r in results if r[0] == 1]
    refused = [r for r in results if r[0] == 0]
    assert len(admitted) == limit
    assert sorted(r[1] for r in admitted) == list(range(limit))  # remaining counts down
    # One unit refills every window/limit ms; nothing refused was charged.
    assert all(r[1] == 0 and 0 < r[2] <= window_ms // limit + 1 for r in refused)


async def test_a_burst_beyond_the_connection_pool_waits_instead_of_failing(
    state_backend: StateBackend, prefix: str
) -> None:
    # More concurrent calls than the Redis pool has connections: callers queue for one.
    results = await asyncio.gather(
        *(
            state_backend.run_script(SLIDING_WINDOW_ADMIT, [f"{prefix}burst"], [1000, 60_000, 1])
            for _ in range(600)
        )
    )
    assert sum(r[0] for r in results) == 600


async def test_sliding_window_refusal_charges_nothing(
    state_backend: StateBackend, prefix: str
) -> None:
    key = f"{prefix}rl"

    async def admit(cost: int) -> list[int]:
        return list(await state_backend.run_script(SLIDING_WINDOW_ADMIT, [key], [5, 60_000, cost]))

    assert await admit(3) == [1, 2, 0]
    refused = await admit(3)
    assert refused[:2] == [0, 2] and 0 < refused[2] <= 12_000
    assert await admit(2) == [1, 0, 0]  # the refused 3 took nothing
    assert await admit(6) == [0, 0, -1]  # larger than the limit: never fits
    assert await admit(0) == [1, 0, 0]  # a zero-cost peek


async def test_sliding_window_refills_after_retry_after(
    state_backend: StateBackend, prefix: str
) -> None:
    key, args = f"{prefix}rl", [2, 200, 1]
    assert (await state_backend.run_script(SLIDING_WINDOW_ADMIT, [key], args))[0] == 1
    assert (await state_backend.run_script(SLIDING_WINDOW_ADMIT, [key], args))[0] == 1
    admitted, _, retry_after_ms = await state_backend.run_script(SLIDING_WINDOW_ADMIT, [key], args)
    assert admitted == 0 and 0 < retry_after_ms <= 100
    await asyncio.sleep(retry_after_ms / 1000 + 0.02)
    assert (await state_backend.run_script(SLIDING_WINDOW_ADMIT, [key], args))[0] == 1


async def test_script_with_bad_arguments_raises_state_error(
    state_backend: StateBackend, prefix: str
) -> None:
    with pytest.raises(StateError):
        await state_backend.run_script(SLIDING_WINDOW_ADMIT, [f"{prefix}rl"], [0, 1000, 1])


async def test_script_not_cached_in_redis_is_loaded_on_noscript(
    redis_backends: Callable[..., Awaitable[RedisStateBackend]], prefix: str
) -> None:
    backend = await redis_backends()
    # A script text no server has seen: the first EVALSHA must hit NOSCRIPT.
    fresh = AtomicScript(
        name="fresh",
        lua=f"-- {uuid.uuid4()}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])",
        local=lambda store, keys, args, now: store.incr(keys[0], int(args[0])),
    )
    assert await backend.run_script(fresh, [f"{prefix}n"], [5]) == 5
    assert await backend.run_script(fresh, [f"{prefix}n"], [5]) == 10
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        assert await client.script_exists(fresh.sha) == [True]
    finally:
        await client.aclose()


# Batches ---------------------------------------------------------------------


async def test_batch_runs_every_op_in_order_with_its_own_result(
    state_backend: StateBackend, prefix: str
) -> None:
    key, stream = f"{prefix}rl", f"{prefix}usage"
    admit = ScriptCall(SLIDING_WINDOW_ADMIT, [key], [2, 60_000, 1])
    results = await state_backend.run_batch(
        [admit, StreamAppend(stream, b"one"), admit, admit, StreamAppend(stream, b"two", maxlen=1)]
    )
    assert [list(results[i]) for i in (0, 2)] == [[1, 1, 0], [1, 0, 0]]
    assert results[3][:2] == [0, 0] and 0 < results[3][2] <= 30_000  # the third is refused
    first_id, second_id = results[1], results[4]
    assert isinstance(first_id, str) and isinstance(second_id, str) and first_id != second_id
    # maxlen applied: only the second entry is left.
    assert await stream_length(state_backend, stream) == 1
    await state_backend.stream_ensure_group(stream, "g")
    [message] = await state_backend.stream_read(stream, "g", "w", count=10)
    assert (message.id, message.payload) == (second_id, b"two")
    assert await state_backend.run_batch([]) == []


async def test_a_failing_op_does_not_stop_the_others(
    state_backend: StateBackend, prefix: str
) -> None:
    key, stream = f"{prefix}rl", f"{prefix}usage"
    results = await state_backend.run_batch(
        [
            ScriptCall(SLIDING_WINDOW_ADMIT, [key], [0, 1000, 1]),  # limit 0: refused by the script
            StreamAppend(stream, b"kept"),
            ScriptCall(SLIDING_WINDOW_ADMIT, [key], [5, 60_000, 2]),
        ]
    )
    assert isinstance(results[0], StateError) and "sliding_window_admit" in results[0].message
    assert isinstance(results[1], str)
    assert list(results[2]) == [1, 3, 0]
    assert await stream_length(state_backend, stream) == 1
    # Alone (a plain command on Redis, not a pipeline), it is still its result, not raised.
    [alone] = await state_backend.run_batch([ScriptCall(SLIDING_WINDOW_ADMIT, [key], [0, 1, 1])])
    assert isinstance(alone, StateError)


def test_a_negative_maxlen_is_refused_when_the_op_is_made() -> None:
    with pytest.raises(ValueError):
        StreamAppend("s", b"p", maxlen=-1)


async def test_batch_loads_scripts_redis_does_not_have(
    redis_backends: Callable[..., Awaitable[RedisStateBackend]], prefix: str
) -> None:
    backend = await redis_backends()

    def fresh() -> AtomicScript:  # a script text no server has seen: EVALSHA hits NOSCRIPT
        return AtomicScript(
            name="fresh",
            lua=f"-- {uuid.uuid4()}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])",
            local=lambda store, keys, args, now: store.incr(keys[0], int(args[0])),
        )

    alone, batched = fresh(), fresh()
    assert await backend.run_batch([ScriptCall(alone, [f"{prefix}a"], [3])]) == [3]
    add = ScriptCall(batched, [f"{prefix}n"], [5])
    # Two NOSCRIPT replies around an op that runs at once: each keeps its own result.
    results = await backend.run_batch([add, StreamAppend(f"{prefix}s", b"p"), add])
    assert [results[0], results[2]] == [5, 10] and isinstance(results[1], str)
    assert await backend.run_batch([add, add]) == [15, 20]
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        assert await client.script_exists(alone.sha, batched.sha) == [True, True]
    finally:
        await client.aclose()


async def test_batch_on_a_closed_backend_raises_state_error(
    redis_backends: Callable[..., Awaitable[RedisStateBackend]], prefix: str
) -> None:
    backend = await redis_backends()
    await backend.close()
    append = StreamAppend(f"{prefix}s", b"p")
    for ops in ([append], [append, append]):
        with pytest.raises(StateError):
            await backend.run_batch(ops)


# Counters --------------------------------------------------------------------


async def test_incr_is_atomic_and_ttl_is_set_only_on_creation(
    state_backend: StateBackend, prefix: str
) -> None:
    key = f"{prefix}count"
    assert await state_backend.get_int(key) == 0
    values = await asyncio.gather(*(state_backend.incr(key, 2, ttl_s=0.4) for _ in range(50)))
    assert sorted(values) == list(range(2, 101, 2))
    await asyncio.sleep(0.25)
    assert await state_backend.incr(key, 1, ttl_s=0.4) == 101  # must not push the expiry back
    await asyncio.sleep(0.25)
    assert await state_backend.get_int(key) == 0
    assert await state_backend.incr(f"{prefix}forever", -3) == -3


# TTL cache ---------------------------------------------------------------------


async def test_cache_values_expire_and_delete(state_backend: StateBackend, prefix: str) -> None:
    cache = StateCache(state_backend)
    short, long_, other = f"{prefix}short", f"{prefix}long", f"{prefix}other"
    await cache.set(short, b"\x00short", ttl_s=0.1)
    await cache.set(long_, b"long", ttl_s=30)
    await cache.set(other, b"other", ttl_s=30)
    assert await cache.get(short) == b"\x00short"
    await asyncio.sleep(0.15)
    assert await cache.get(short) is None
    assert await cache.get(long_) == b"long"
    await cache.delete(long_, other, f"{prefix}missing")
    assert await cache.get(long_) is None
    assert await cache.get(other) is None
    await cache.set(other, b"x", ttl_s=0)  # a zero TTL stores nothing
    assert await cache.get(other) is None


async def test_memory_cache_is_bounded() -> None:
    cache = StateCache(MemoryStateBackend(), max_entries=3)
    for name in "abcd":
        await cache.set(name, name.encode(), ttl_s=60)
    assert await cache.get("a") is None  # oldest evicted
    assert [await cache.get(n) for n in "bcd"] == [b"b", b"c", b"d"]


# Pub/sub -------------------------------------------------------------------------


async def test_pubsub_delivers_to_sync_and_async_handlers(
    state_backend: StateBackend, prefix: str
) -> None:
    channel = f"{prefix}events"
    seen_sync: list[bytes] = []
    seen_async: list[bytes] = []

    def broken(message: bytes) -> None:
        raise RuntimeError("handler bug")

    async def record(message: bytes) -> None:
        await asyncio.sleep(0)
        seen_async.append(message)

    first = await state_backend.subscribe(channel, seen_sync.append)
    await state_backend.subscribe(channel, broken)  # its failure must not stop the others
    await state_backend.subscribe(channel, record)
    await state_backend.publish(channel, b"one")
    await state_backend.publish(channel, b"two")
    await _eventually(lambda: len(seen_sync) == 2 and len(seen_async) == 2)
    assert seen_sync == [b"one", b"two"] and seen_async == [b"one", b"two"]

    await first.close()
    await state_backend.publish(channel, b"three")
    await _eventually(lambda: len(seen_async) == 3)
    assert seen_sync == [b"one", b"two"]


async def test_pubsub_between_two_redis_backends(
    redis_backends: Callable[..., Awaitable[RedisStateBackend]], prefix: str
) -> None:
    listener, publisher = await redis_backends(), await redis_backends()
    channel = f"{prefix}invalidate"
    received: list[bytes] = []
    await listener.subscribe(channel, received.append)
    await publisher.publish(channel, b"key:123")
    await _eventually(lambda: received == [b"key:123"])


async def test_redis_pubsub_resumes_after_connection_loss(
    redis_backends: Callable[..., Awaitable[RedisStateBackend]],
    prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    name = f"t{uuid.uuid4().hex[:12]}"
    listener = await redis_backends(client_name=name)
    publisher = await redis_backends()
    channel = f"{prefix}invalidate"
    received: list[bytes] = []
    await listener.subscribe(channel, received.append)

    admin = aioredis.Redis.from_url(REDIS_URL)
    try:
        clients = await admin.client_list()
        victims = [c["id"] for c in clients if c.get("name") == name]
        assert victims
        for client_id in victims:
            await admin.client_kill_filter(_id=client_id)
    finally:
        await admin.aclose()

    with caplog.at_level(logging.WARNING, logger="inferia.state"):
        deadline = time.monotonic() + 5
        while b"after" not in received:  # messages sent during the gap are lost
            assert time.monotonic() < deadline, "invalidations did not resume"
            await publisher.publish(channel, b"after")
            await asyncio.sleep(0.05)
    assert any("connection to Redis lost" in r.getMessage() for r in caplog.records)


async def test_after_a_gap_in_the_subscription_handlers_are_told_everything_changed(
    redis_backends: Callable[..., Awaitable[RedisStateBackend]], prefix: str
) -> None:
    """An invalidation published while the subscriber reconnects is lost; the handler
    must learn that it may have missed something (a revoked key, a changed policy)."""
    name = f"t{uuid.uuid4().hex[:12]}"
    listener = await redis_backends(client_name=name)
    publisher = await redis_backends()
    channel = f"{prefix}invalidate"
    received: list[bytes] = []
    await listener.subscribe(channel, received.append)
    await publisher.publish(channel, b"key:1")
    await _eventually(lambda: received == [b"key:1"])

    admin = aioredis.Redis.from_url(REDIS_URL)
    try:
        victims = [c["id"] for c in await admin.client_list() if c.get("name") == name]
        for client_id in victims:
            await admin.client_kill_filter(_id=client_id)
        # Published in the gap: nobody is subscribed, so it reaches no one.
        assert await admin.publish(channel, b"key:2") == 0
    finally:
        await admin.aclose()
    await _eventually(lambda: EVERYTHING_CHANGED in received)
    assert b"key:2" not in received
    # Exactly one notice per gap, and ordinary messages flow again afterwards.
    await publisher.publish(channel, b"key:3")
    await _eventually(lambda: received[-1] == b"key:3")
    assert received.count(EVERYTHING_CHANGED) == 1


# Streams -------------------------------------------------------------------------


async def test_stream_unacked_message_is_claimed_by_another_consumer(
    state_backend: StateBackend, prefix: str
) -> None:
    stream, group = f"{prefix}usage", "writers"
    await state_backend.stream_ensure_group(stream, group)
    await state_backend.stream_ensure_group(stream, group)  # idempotent
    message_id = await state_backend.stream_add(stream, b'{"tokens": 12}')
    assert await stream_length(state_backend, stream) == 1

    [first] = await state_backend.stream_read(stream, group, "worker-1", count=10)
    assert (first.id, first.payload, first.deliveries) == (message_id, b'{"tokens": 12}', 1)
    assert await state_backend.stream_read(stream, group, "worker-2", count=10) == []
    assert await pending_count(state_backend, stream, group) == 1

    # worker-1 "crashed" without acking; too fresh to steal at first.
    assert await state_backend.stream_claim_stale(stream, group, "worker-2", 100, 10) == []
    await asyncio.sleep(0.15)
    [claimed] = await state_backend.stream_claim_stale(stream, group, "worker-2", 100, 10)
    assert (claimed.id, claimed.payload, claimed.deliveries) == (message_id, first.payload, 2)

    assert await state_backend.stream_ack(stream, group, [claimed.id]) == 1
    assert await state_backend.stream_ack(stream, group, [claimed.id]) == 0
    assert await pending_count(state_backend, stream, group) == 0
    assert await state_backend.stream_claim_stale(stream, group, "worker-3", 0, 10) == []


async def test_stream_group_sees_messages_added_before_it_and_respects_count(
    state_backend: StateBackend, prefix: str
) -> None:
    stream, group = f"{prefix}usage", "writers"
    ids = [await state_backend.stream_add(stream, f"m{i}".encode()) for i in range(5)]
    await state_backend.stream_ensure_group(stream, group)
    batch = await state_backend.stream_read(stream, group, "w", count=3)
    rest = await state_backend.stream_read(stream, group, "w", count=3)
    assert [m.id for m in batch + rest] == ids
    assert [m.payload for m in rest] == [b"m3", b"m4"]


async def test_stream_blocking_read_wakes_on_add_and_times_out(
    state_backend: StateBackend, prefix: str
) -> None:
    stream, group = f"{prefix}usage", "writers"
    await state_backend.stream_ensure_group(stream, group)

    started = time.monotonic()
    assert await state_backend.stream_read(stream, group, "w", count=1, block_ms=150) == []
    assert 0.12 <= time.monotonic() - started < 0.6

    reader = asyncio.create_task(state_backend.stream_read(stream, group, "w", 1, block_ms=800))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await state_backend.stream_add(stream, b"wake")
    messages = await reader
    assert [m.payload for m in messages] == [b"wake"]
    assert time.monotonic() - started < 0.3


async def test_stream_maxlen_trims_oldest(state_backend: StateBackend, prefix: str) -> None:
    stream, group = f"{prefix}usage", "writers"
    for i in range(6):
        await state_backend.stream_add(stream, f"m{i}".encode(), maxlen=4)
    assert await stream_length(state_backend, stream) == 4
    await state_backend.stream_ensure_group(stream, group)
    messages = await state_backend.stream_read(stream, group, "w", count=10)
    assert [m.payload for m in messages] == [b"m2", b"m3", b"m4", b"m5"]


async def test_stream_without_group_raises_state_error(
    state_backend: StateBackend, prefix: str
) -> None:
    with pytest.raises(StateError):
        await pending_count(state_backend, f"{prefix}none", "nobody")
    with pytest.raises(StateError):
        await state_backend.stream_read(f"{prefix}none", "nobody", "w", count=1)


# Redis down ----------------------------------------------------------------------


async def test_redis_down_ping_is_false_and_operations_raise_state_error(prefix: str) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = RedisStateBackend(
        f"redis://127.0.0.1:{port}/0", socket_timeout_s=0.2, connect_timeout_s=0.2
    )
    started = time.monotonic()
    await backend.start()  # must not raise: readiness reports the outage instead
    try:
        assert await backend.ping() is False
        operations: list[Callable[[], Awaitable[object]]] = [
            lambda: backend.run_script(SLIDING_WINDOW_ADMIT, [f"{prefix}rl"], [1, 1000, 1]),
            lambda: backend.incr(f"{prefix}n", ttl_s=5),
            lambda: backend.get_int(f"{prefix}n"),
            lambda: StateCache(backend).get(f"{prefix}c"),
            lambda: StateCache(backend).set(f"{prefix}c", b"v", 5),
            lambda: backend.publish(f"{prefix}ch", b"m"),
            lambda: backend.subscribe(f"{prefix}ch", lambda m: None),
            lambda: backend.stream_add(f"{prefix}s", b"p"),
            # A connection failure fails the whole batch, not op by op.
            lambda: backend.run_batch([StreamAppend(f"{prefix}s", b"p")]),
            lambda: backend.run_batch(
                [
                    ScriptCall(SLIDING_WINDOW_ADMIT, [f"{prefix}rl"], [1, 1000, 1]),
                    StreamAppend(f"{prefix}s", b"p"),
                ]
            ),
            lambda: backend.stream_ensure_group(f"{prefix}s", "g"),
            lambda: backend.stream_read(f"{prefix}s", "g", "w", 1, block_ms=100),
        ]
        for operation in operations:
            with pytest.raises(StateError):
                await operation()
    finally:
        await backend.close()
    assert time.monotonic() - started < 3


# Choosing the backend ---------------------------------------------------------------


async def test_build_state_backend_from_url() -> None:
    memory = build_state_backend("")
    assert isinstance(memory, MemoryStateBackend) and not memory.shared
    for url in ("redis://localhost:6379/0", "rediss://h:6380", "unix:///tmp/redis.sock"):
        backend = build_state_backend(url)
        assert isinstance(backend, RedisStateBackend) and backend.shared
        await backend.close()
    with pytest.raises(ConfigError) as caught:
        build_state_backend("memcached://user:s3cret@host")
    assert caught.value.param == "state.url"
    assert "s3cret" not in str(caught.value)


async def test_stream_ack_with_delete_removes_entries(
    state_backend: StateBackend, prefix: str
) -> None:
    """A consumer that deletes what it acknowledged leaves an empty stream (the usage
    stream would otherwise grow by one entry per request forever)."""
    stream = f"{prefix}:acked"
    await state_backend.stream_ensure_group(stream, "g")
    for index in range(5):
        await state_backend.stream_add(stream, f"m{index}".encode())
    first = await state_backend.stream_read(stream, "g", "w", count=3)
    assert await state_backend.stream_ack(stream, "g", [m.id for m in first], delete=True) == 3
    assert await stream_length(state_backend, stream) == 2
    rest = await state_backend.stream_read(stream, "g", "w", count=10)
    assert [m.payload for m in rest] == [b"m3", b"m4"]
    assert await state_backend.stream_ack(stream, "g", [m.id for m in rest], delete=True) == 2
    assert await stream_length(state_backend, stream) == 0
    assert await pending_count(state_backend, stream, "g") == 0
    # New entries after the deletions are delivered as usual.
    await state_backend.stream_add(stream, b"later")
    [later] = await state_backend.stream_read(stream, "g", "w", count=10)
    assert later.payload == b"later"


async def test_a_consumer_recreates_its_group_when_redis_lost_it(
    redis_backends: Callable[..., Awaitable[RedisStateBackend]], prefix: str
) -> None:
    """A Redis restarted without persistence comes back without the stream and its
    consumer group; entries added afterwards must still be written."""
    state = await redis_backends()
    stream = f"{prefix}usage"
    written: list[bytes] = []

    async def write(messages: Sequence[StreamMessage]) -> None:
        written.extend(m.payload for m in messages)

    consumer = StreamConsumer(
        state, write, stream=stream, group="writers", label="test-consumer", block_ms=50
    )
    await consumer.start()
    try:
        await state.stream_add(stream, b"before")
        await _eventually(lambda: written == [b"before"])
        admin = aioredis.Redis.from_url(REDIS_URL)
        try:
            await admin.delete(stream)  # what a restart without persistence leaves
        finally:
            await admin.aclose()
        await state.stream_add(stream, b"after-1")
        await state.stream_add(stream, b"after-2")
        await _eventually(lambda: written == [b"before", b"after-1", b"after-2"], timeout_s=5)
    finally:
        await consumer.close()
