"""Routing strategies, retries, fallbacks and the circuit breaker, observed at the upstream."""

from __future__ import annotations

import collections
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from tests.e2e.fake_upstream import FakeUpstream
from tests.e2e.gateway_fixtures import client, create_key, gateway
from tests.processes import InferiaServer

pytestmark = pytest.mark.e2e
USER = [{"role": "user", "content": "hi"}]


def models(fake: FakeUpstream) -> list[dict[str, Any]]:
    u = fake.url
    return [
        {
            "name": "wrr",
            "base_url": u("b"),
            "weight": 3,
            "routing_strategy": "weighted_round_robin",
        },
        {"name": "wrr", "base_url": u("c"), "weight": 1},
        {"name": "lo", "base_url": u("b"), "routing_strategy": "least_outstanding"},
        {"name": "lo", "base_url": u("c")},
        {"name": "pa", "base_url": u("b"), "routing_strategy": "prefix_affinity"},
        {"name": "pa", "base_url": u("c")},
        {"name": "pa", "base_url": u("d")},
        {"name": "flaky", "base_url": u("b")},
        {"name": "flaky", "base_url": u("c")},
        {"name": "primary", "base_url": u("d")},
        {"name": "backup", "base_url": u("e")},
        {"name": "cb", "base_url": u("f")},
        {"name": "cb", "base_url": u("g")},
    ]


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[FakeUpstream, InferiaServer, dict[str, str]]]:
    settings = {
        "max_retries": 2,
        "retry_backoff_s": 0.01,
        "circuit_failure_threshold": 2,
        "circuit_cooldown_s": 60.0,
        "fallbacks": {"primary": ["backup"]},
        "fallback_on": ["context_length", "rate_limit", "server_error"],
    }
    with gateway(tmp_path_factory.mktemp("routing"), 7, models, settings) as running:
        yield running


@pytest.fixture(scope="module")
def fake(stack: tuple[FakeUpstream, InferiaServer, dict[str, str]]) -> FakeUpstream:
    return stack[0]


@pytest.fixture(scope="module")
def sdk(stack: tuple[FakeUpstream, InferiaServer, dict[str, str]]) -> openai.OpenAI:
    return client(stack[1], create_key(stack[2]))


def served(fake: FakeUpstream, model: str) -> list[str]:
    return [r["instance"] for r in fake.requests() if r["body"].get("model") == model]


def test_weighted_round_robin_follows_the_weights(sdk: openai.OpenAI, fake: FakeUpstream) -> None:
    for _ in range(40):
        sdk.chat.completions.create(model="wrr", messages=USER)
    instances = served(fake, "wrr")
    assert collections.Counter(instances) == {"b": 30, "c": 10}
    # Smooth: the light endpoint is interleaved, never starved for long.
    assert "c" in instances[:4]


def test_least_outstanding_avoids_the_busy_endpoint(sdk: openai.OpenAI, fake: FakeUpstream) -> None:
    stream = sdk.chat.completions.create(
        model="lo",
        messages=USER,
        stream=True,
        extra_body={"fake": {"chunks": 30, "chunk_delay_s": 0.1}},
    )
    next(iter(stream))
    busy = served(fake, "lo")[-1]
    for _ in range(6):
        sdk.chat.completions.create(model="lo", messages=USER)
    stream.close()
    assert served(fake, "lo")[1:] == ["c" if busy == "b" else "b"] * 6


def prompt(prefix: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": f"{prefix} " * 20}, {"role": "user", "content": "q"}]


def test_prefix_affinity_keeps_a_prefix_on_one_endpoint(
    sdk: openai.OpenAI, fake: FakeUpstream
) -> None:
    homes: dict[str, set[str]] = {}
    for index in range(12):
        prefix = f"tenant-{index}"
        for _ in range(3):
            sdk.chat.completions.create(model="pa", messages=prompt(prefix))
            homes.setdefault(prefix, set()).add(served(fake, "pa")[-1])
    assert all(len(home) == 1 for home in homes.values()), homes
    # Different prefixes spread over the endpoints.
    assert len(set().union(*homes.values())) >= 2


def test_prefix_affinity_bounds_the_load_of_a_hot_prefix(
    stack: tuple[FakeUpstream, InferiaServer, dict[str, str]], fake: FakeUpstream
) -> None:
    server, env = stack[1], stack[2]
    key = create_key(env)
    start = len(served(fake, "pa"))
    streams = []

    def open_stream() -> None:
        s = client(server, key).chat.completions.create(
            model="pa",
            messages=prompt("hot"),
            stream=True,
            extra_body={"fake": {"chunks": 20, "chunk_delay_s": 0.1}},
        )
        next(iter(s))
        streams.append(s)

    for _ in range(6):  # one at a time, each still open when the next starts
        open_stream()
    placed = collections.Counter(served(fake, "pa")[start:])
    for s in streams:
        s.close()
    # Bounded load (factor 1.25, 3 endpoints): nobody holds more than ceil(1.25 * 6 / 3) = 3.
    assert max(placed.values()) <= 3 and len(placed) >= 2, placed


def test_retries_go_to_another_endpoint(sdk: openai.OpenAI, fake: FakeUpstream) -> None:
    for _ in range(4):
        reply = sdk.chat.completions.create(
            model="flaky", messages=USER, extra_body={"fake": {"b": {"status": 503}}}
        )
        assert reply.choices[0].message.content
    instances = served(fake, "flaky")
    assert instances.count("c") == 4
    assert "b" in instances  # b was tried and failed, then c answered


def test_fallback_to_another_model_on_configured_errors(
    sdk: openai.OpenAI, fake: FakeUpstream
) -> None:
    limited = {"d": {"status": 429}}
    assert sdk.chat.completions.create(model="primary", messages=USER, extra_body={"fake": limited})
    too_long = {
        "d": {"status": 400, "error_message": "This model's maximum context length is 8 tokens"}
    }
    assert sdk.chat.completions.create(
        model="primary", messages=USER, extra_body={"fake": too_long}
    )
    assert len(served(fake, "backup")) == 2
    # A plain client error is not a fallback class: the client sees it.
    with pytest.raises(openai.BadRequestError):
        sdk.chat.completions.create(
            model="primary", messages=USER, extra_body={"fake": {"d": {"status": 400}}}
        )
    assert len(served(fake, "backup")) == 2


def test_fallback_never_reaches_a_model_the_key_may_not_use(
    stack: tuple[FakeUpstream, InferiaServer, dict[str, str]], fake: FakeUpstream
) -> None:
    _, server, env = stack
    primary_only = client(server, create_key(env, "primary"))
    before = len(served(fake, "backup"))
    with pytest.raises(openai.RateLimitError):
        primary_only.chat.completions.create(
            model="primary", messages=USER, extra_body={"fake": {"d": {"status": 429}}}
        )
    assert len(served(fake, "backup")) == before


def test_circuit_breaker_takes_a_failing_endpoint_out(
    sdk: openai.OpenAI,
    fake: FakeUpstream,
    stack: tuple[FakeUpstream, InferiaServer, dict[str, str]],
) -> None:
    fake.set("f", status=500)
    for _ in range(8):
        assert sdk.chat.completions.create(model="cb", messages=USER)
    instances = served(fake, "cb")
    # Two failures open f's circuit (threshold 2): later requests go straight to g.
    assert instances.count("f") == 2
    assert instances.count("g") == 8
    # Each failure is logged with model, endpoint, class, status and the request id;
    # the circuit opening too; never the upstream's address path or credentials.
    log = stack[1].output.splitlines()
    failures = [line for line in log if "upstream call failed: model=cb " in line]
    assert len(failures) == 2
    assert all("class=server_error status=500" in line for line in failures)
    assert all("[request_id=" in line and "/v1" not in line for line in failures)
    assert sum("circuit opened: endpoint" in line and "of model cb" in line for line in log) == 1
