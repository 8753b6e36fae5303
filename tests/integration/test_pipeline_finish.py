"""The end of a request: every step's state writes go to the backend in one batch.

The real admit step and usage sink run in a Pipeline on memory and on a real Redis
(INFERIA_TEST_REDIS_URL's database + 7, tests/services.py). On Redis, round trips are counted on the
wire: every write of a packed request to a connection of the backend under test, with
the command names it carried. The backend has two kinds of connection: redis-py's
(whose writes are followed by reading their replies) and the multiplexed one the
per-request calls use (each call is one ``transport.write`` and awaits its replies);
both are counted.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import msgspec
import pytest
import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection

from inferia.config import LimitsSettings, UsageSettings
from inferia.contracts import USAGE_STREAM, PolicySnapshots
from inferia.contracts.principals import Principal
from inferia.core.errors import StateError
from inferia.inference.admission import AdmissionStep
from inferia.inference.pipeline import Pipeline, RequestContext, Step, Usage
from inferia.inference.tokens import TokenCounter, install_encodings
from inferia.inference.usage_sink import UsageSink
from inferia.limits import LimitEvaluator, LimitValues, OrgPolicies, PolicyRule
from inferia.state import (
    SLIDING_WINDOW_ADMIT,
    MemoryStateBackend,
    RedisStateBackend,
    ScriptCall,
    StateBackend,
    StreamAppend,
)
from inferia.state.redis_wire import ReplyProtocol
from tests.services import redis_db_url

REDIS_DB = 7  # a slot: INFERIA_TEST_REDIS_URL's database + 7 (tests/services.py)
TOKEN_LIMITS = LimitValues(rpm=1000, tpm=1000, daily_tokens=10**6, max_parallel=10)


@dataclass
class Backend:
    state: StateBackend
    org: str
    # Redis only: this backend's connections answer to this client name.
    client_name: str | None = None


@asynccontextmanager
async def _opened(kind: str) -> AsyncIterator[Backend]:
    org = str(uuid.uuid4())
    if kind == "memory":
        memory = MemoryStateBackend()
        try:
            yield Backend(memory, org)
        finally:
            await memory.close()
        return
    url = redis_db_url(REDIS_DB)
    name = f"t{uuid.uuid4().hex[:12]}"
    # No periodic health-check PING: it would be a round trip of its own.
    redis = RedisStateBackend(url, health_check_interval_s=0, client_name=name)
    await redis.start()
    try:
        yield Backend(redis, org, name)
    finally:
        await redis.close()
        client = aioredis.Redis.from_url(url)
        try:
            keys = [k async for k in client.scan_iter(match=f"inferia:lim:{{{org}}}:*")]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()


@pytest.fixture(params=["memory", "redis"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    install_encodings(tmp_path / "tiktoken")
    async with _opened(request.param) as opened:
        yield opened


@pytest.fixture
async def redis_backend(tmp_path: Path) -> AsyncIterator[Backend]:
    install_encodings(tmp_path / "tiktoken")
    async with _opened("redis") as opened:
        yield opened


@dataclass
class Wire:
    """Each request written to the backend's connections: the commands it carried."""

    client_name: str
    round_trips: list[list[str]] = field(default_factory=list)

    def take(self) -> list[list[str]]:
        taken, self.round_trips = self.round_trips, []
        return taken


class _CountingTransport(asyncio.Transport):
    """The multiplexed connection's transport, recording every write."""

    def __init__(self, transport: asyncio.Transport, recorded: Wire) -> None:
        super().__init__()
        self._transport = transport
        self._recorded = recorded

    def write(self, data: Any) -> None:
        self._recorded.round_trips.append(_command_names(bytes(data)))
        self._transport.write(data)

    def abort(self) -> None:
        self._transport.abort()

    def close(self) -> None:
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)


@pytest.fixture
def wire(redis_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> Iterator[Wire]:
    assert redis_backend.client_name is not None
    recorded = Wire(redis_backend.client_name)
    send = AbstractConnection.send_packed_command

    async def counting_send(
        self: AbstractConnection, command: Any, check_health: bool = True
    ) -> None:
        if self.client_name == recorded.client_name:
            recorded.round_trips.append(_command_names(command))
        await send(self, command, check_health)

    connection_made = ReplyProtocol.connection_made

    def counting_connection_made(self: ReplyProtocol, transport: asyncio.BaseTransport) -> None:
        if self.endpoint.client_name == recorded.client_name:
            transport = _CountingTransport(cast(asyncio.Transport, transport), recorded)
        connection_made(self, transport)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting_send)
    monkeypatch.setattr(ReplyProtocol, "connection_made", counting_connection_made)
    yield recorded


def _command_names(packed: Any) -> list[str]:
    """The command names in RESP-encoded requests (``*N $len NAME ...`` each)."""
    data = packed if isinstance(packed, bytes | str) else b"".join(packed)
    data = data.encode() if isinstance(data, str) else data
    names: list[str] = []
    position = 0
    while position < len(data):
        header_end = data.index(b"\r\n", position)
        arguments = int(data[position + 1 : header_end])
        position = header_end + 2
        for index in range(arguments):
            length_end = data.index(b"\r\n", position)
            length = int(data[position + 1 : length_end])
            start = length_end + 2
            if index == 0:
                names.append(data[start : start + length].decode().upper())
            position = start + length + 2
    return names


class FixedPolicies:
    def __init__(self, org: str, key: str, limits: LimitValues | None) -> None:
        rules = () if limits is None else (PolicyRule(scope="api_key", subject=key, limits=limits),)
        self._policies = OrgPolicies(organization_id=org, rules=rules)

    async def load(self, organization_id: str) -> OrgPolicies:
        return self._policies


@dataclass
class Gateway:
    pipeline: Pipeline
    admission: AdmissionStep
    sink: UsageSink
    org: str
    key: str

    def context(self, usage: Usage | None = None, max_tokens: int = 500) -> RequestContext:
        return RequestContext(
            request_id=f"req-{uuid.uuid4().hex}",
            principal=Principal(organization_id=self.org, key_id=self.key),
            api="chat.completions",
            model="test-model",
            body={
                "model": "test-model",
                "messages": [{"role": "user", "content": "Hello, who are you?"}],
                "max_tokens": max_tokens,
            },
            stream=False,
            client_address="127.0.0.1",
            received_at=time.monotonic(),
            usage=usage,
        )

    async def request(self) -> RequestContext:
        ctx = self.context(Usage(12, 20))
        await self.pipeline.before_upstream(ctx)
        ctx.finished_at = time.monotonic()
        await self.pipeline.finish(ctx)
        return ctx


def _gateway(backend: Backend, limits: LimitValues | None, *, usage: bool = True) -> Gateway:
    """The admit step and the usage sink as InferencePlane wires them."""
    state, key = backend.state, str(uuid.uuid4())
    snapshots = PolicySnapshots(FixedPolicies(backend.org, key, limits), state, LimitValues(), 60)
    evaluator = LimitEvaluator(state, slot_ttl_ms=60_000)
    admission = AdmissionStep(snapshots, evaluator, TokenCounter(), {}, LimitsSettings())
    sink = UsageSink(state, snapshots, {}, UsageSettings(), "")
    pipeline = Pipeline()
    pipeline.append(admission)
    if usage:
        pipeline.append(sink)
    return Gateway(pipeline, admission, sink, backend.org, key)


async def _usage_events(backend: Backend, request_ids: set[str]) -> list[dict[str, Any]]:
    """This test's usage events on the stream (other tests may share it)."""
    state = backend.state
    group = f"g{uuid.uuid4().hex}"
    await state.stream_ensure_group(USAGE_STREAM, group)  # from the stream's start
    events: list[dict[str, Any]] = []
    while batch := await state.stream_read(USAGE_STREAM, group, "reader", count=1000):
        events += [msgspec.json.decode(m.payload) for m in batch]
    if backend.client_name is not None:
        client = aioredis.Redis.from_url(redis_db_url(REDIS_DB))
        try:
            await client.xgroup_destroy(USAGE_STREAM, group)
        finally:
            await client.aclose()
    return [e for e in events if e["request_id"] in request_ids]


async def test_a_token_limited_request_costs_two_round_trips(
    redis_backend: Backend, wire: Wire
) -> None:
    backend = redis_backend
    gateway = _gateway(backend, TOKEN_LIMITS)
    warm = await gateway.request()  # connects (handshake) and loads the policy snapshot
    wire.take()

    plan = (await gateway.admission.snapshots.get(gateway.org)).plan(
        gateway.org, None, gateway.key, "test-model"
    )
    [slots] = [c.key for c in plan if c.field.name == "max_parallel"]
    client = aioredis.Redis.from_url(redis_db_url(REDIS_DB))
    try:
        ctx = gateway.context(Usage(12, 20))
        await gateway.pipeline.before_upstream(ctx)
        assert wire.take() == [["EVALSHA"]]  # admit: every limit in one script call
        assert await client.zcard(slots) == 1
        ctx.finished_at = time.monotonic()
        await gateway.pipeline.finish(ctx)
        # settle + usage event, together.
        assert wire.take() == [["EVALSHA", "XADD"]]
        # And both did their work: the slot is free, the events are queued.
        assert await client.zcard(slots) == 0
    finally:
        await client.aclose()
    assert (gateway.admission.settle_failures, gateway.sink.dropped) == (0, 0)
    events = await _usage_events(backend, {warm.request_id, ctx.request_id})
    assert sorted(e["completion_tokens"] for e in events) == [20, 20]


async def test_nothing_deferred_means_no_call(redis_backend: Backend, wire: Wire) -> None:
    gateway = _gateway(redis_backend, None, usage=False)  # no limits, no usage sink
    await gateway.request()
    await gateway.request()
    assert wire.take() == []


async def test_settle_replaces_the_reservation_by_real_usage(backend: Backend) -> None:
    gateway = _gateway(backend, LimitValues(tpm=1000))
    first = gateway.context(Usage(12, 20))
    await gateway.pipeline.before_upstream(first)
    reserved = 1000 - int(first.response_headers["x-ratelimit-remaining-tokens"])
    assert reserved > 500  # the prompt + max_tokens
    first.finished_at = time.monotonic()
    await gateway.pipeline.finish(first)

    # Had the first kept its reservation, the second would not fit.
    second = gateway.context(Usage(12, 20))
    await gateway.pipeline.before_upstream(second)
    remaining = int(second.response_headers["x-ratelimit-remaining-tokens"])
    expected = 1000 - 32 - reserved
    assert expected <= remaining <= expected + 2  # + what drained meanwhile
    await gateway.pipeline.finish(second)
    assert gateway.admission.settle_failures == 0


class _Recorder(Step):
    """A step deferring the ops it is given and recording what each one got."""

    def __init__(self, name: str, state: StateBackend, ops: list[Any]) -> None:
        self.name = name
        self._state = state
        self._ops = ops
        self.results: list[Any] = []

    async def finish(self, ctx: RequestContext) -> None:
        for op in self._ops:
            ctx.defer(self._state, op, self._record)

    def _record(self, ctx: RequestContext, result: Any) -> None:
        self.results.append(result)
        if isinstance(result, StateError):
            raise RuntimeError("a buggy result handler")


async def test_each_step_gets_its_own_results_from_one_batch(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    state, prefix = backend.state, f"inferia:lim:{{{backend.org}}}:"
    bad = ScriptCall(SLIDING_WINDOW_ADMIT, [f"{prefix}a"], [0, 1000, 1])
    good = ScriptCall(SLIDING_WINDOW_ADMIT, [f"{prefix}a"], [5, 60_000, 2])
    first = _Recorder("first", state, [bad, StreamAppend(f"{prefix}s", b"x")])
    second = _Recorder("second", state, [good])
    pipeline = Pipeline()
    pipeline.append(first)
    pipeline.append(second)
    ctx = _gateway(backend, None).context()

    with caplog.at_level(logging.ERROR, logger="inferia.inference.pipeline"):
        await pipeline.finish(ctx)
    error, stream_id = first.results
    assert isinstance(error, StateError) and isinstance(stream_id, str)
    # The first step's handler raised on its error: logged, and the second still got its own.
    assert [list(r) for r in second.results] == [[1, 3, 0]]
    assert any("result handler" in r.getMessage() for r in caplog.records)
    assert ctx.deferred == []


async def test_an_outage_at_the_end_counts_a_failed_settle_and_keeps_the_event(
    redis_backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    backend = redis_backend
    gateway = _gateway(backend, TOKEN_LIMITS)
    ctx = gateway.context(Usage(12, 20))
    await gateway.pipeline.before_upstream(ctx)
    await backend.state.close()  # every call now fails, as with Redis down
    ctx.finished_at = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="inferia.inference"):
        await gateway.pipeline.finish(ctx)
    # The usage event is not lost: it waits in the backlog for the state backend.
    assert (gateway.admission.settle_failures, gateway.sink.dropped) == (1, 0)
    assert len(gateway.sink.backlog) == 1
    messages = [r.getMessage() for r in caplog.records]
    assert any(f"could not settle request {ctx.request_id}" in m for m in messages)
    assert any(f"usage event of request {ctx.request_id} kept for later" in m for m in messages)
