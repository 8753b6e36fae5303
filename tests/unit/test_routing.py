"""Routing strategies, the circuit breaker, the routing table and the SSRF policy."""

from __future__ import annotations

import collections
import ipaddress
import time

import msgspec
import pytest

from inferia.config import InferenceSettings, ModelEndpointSettings
from inferia.contracts import ModelDefinition, ModelEndpointDefinition
from inferia.core.ssrf import GuardedResolver, SsrfRefused, check_url, refusal
from inferia.inference.routing.endpoint import Endpoint, EndpointHealth
from inferia.inference.routing.strategies import (
    LeastOutstanding,
    PrefixAffinity,
    WeightedRoundRobin,
)
from inferia.inference.routing.table import RoutingTableBuilder


def endpoint(name: str, weight: int = 1) -> Endpoint:
    return Endpoint(
        id=name,
        deployment="d",
        base_url=f"http://{name}",
        upstream_model="m",
        weight=weight,
        connect_timeout_s=1,
        request_timeout_s=1,
        headers={},
    )


def test_weighted_round_robin_is_smooth_and_proportional() -> None:
    endpoints = [endpoint("a", 5), endpoint("b", 1), endpoint("c", 1)]
    strategy = WeightedRoundRobin(endpoints)
    picks = [strategy.pick(endpoints, None).id for _ in range(70)]
    assert collections.Counter(picks) == {"a": 50, "b": 10, "c": 10}
    # nginx's smooth sequence for 5/1/1: a a b a c a a.
    assert picks[:7] == ["a", "a", "b", "a", "c", "a", "a"]


def test_weighted_round_robin_skips_endpoints_not_offered() -> None:
    endpoints = [endpoint("a", 3), endpoint("b", 1)]
    strategy = WeightedRoundRobin(endpoints)
    assert {strategy.pick(endpoints[1:], None).id for _ in range(5)} == {"b"}


def test_least_outstanding_prefers_the_idle_endpoint() -> None:
    endpoints = [endpoint("a"), endpoint("b"), endpoint("c")]
    endpoints[0].health.outstanding = 3
    endpoints[1].health.outstanding = 1
    strategy = LeastOutstanding()
    assert {strategy.pick(endpoints, None).id for _ in range(6)} == {"c"}
    endpoints[2].health.outstanding = 1
    # Ties share the work.
    assert {strategy.pick(endpoints, None).id for _ in range(6)} == {"b", "c"}


def test_prefix_affinity_is_stable_and_spreads_prefixes() -> None:
    endpoints = [endpoint("a"), endpoint("b"), endpoint("c")]
    strategy = PrefixAffinity(endpoints, 1.25)
    homes = {f"prefix {i}": strategy.pick(endpoints, f"prefix {i}").id for i in range(300)}
    assert all(strategy.pick(endpoints, key).id == home for key, home in homes.items())
    shares = collections.Counter(homes.values())
    assert min(shares.values()) > 50, shares  # 64 virtual nodes each: roughly even


def test_prefix_affinity_moves_only_the_removed_endpoints_keys() -> None:
    endpoints = [endpoint("a"), endpoint("b"), endpoint("c")]
    strategy = PrefixAffinity(endpoints, 1.25)
    keys = [f"k{i}" for i in range(200)]
    before = {k: strategy.pick(endpoints, k).id for k in keys}
    remaining = [e for e in endpoints if e.id != "c"]
    after = {k: strategy.pick(remaining, k).id for k in keys}
    assert all(after[k] == before[k] for k in keys if before[k] != "c")


def test_prefix_affinity_bounds_load() -> None:
    endpoints = [endpoint("a"), endpoint("b")]
    strategy = PrefixAffinity(endpoints, 1.25)
    home = strategy.pick(endpoints, "hot")
    home.health.outstanding = 4  # capacity = ceil(1.25 * 5 / 2) = 4: full
    assert strategy.pick(endpoints, "hot") is not home


def test_circuit_opens_after_failures_and_lets_one_trial_through() -> None:
    health = EndpointHealth()
    for _ in range(2):
        assert health.available(time.monotonic())
        health.failed(threshold=3, cooldown_s=0.05)
    health.failed(threshold=3, cooldown_s=0.05)
    assert not health.available(time.monotonic())
    time.sleep(0.06)
    now = time.monotonic()
    assert health.available(now)
    health.acquire(now)  # the trial
    assert not health.available(now)  # only one at a time while half-open
    health.release()
    health.succeeded()
    assert health.available(time.monotonic()) and health.consecutive_failures == 0


def test_routing_table_merges_config_and_api_models() -> None:
    builder = RoutingTableBuilder(InferenceSettings())
    configured = [
        ModelEndpointSettings(name="shared", base_url="http://127.0.0.1:1/v1", weight=2),
        ModelEndpointSettings(name="shared", base_url="http://127.0.0.1:2/v1"),
    ]
    defined = [
        ModelDefinition(
            id="1",
            organization_id="org-a",
            name="shared",
            endpoints=(ModelEndpointDefinition(base_url="http://127.0.0.1:3/v1", api_key="k"),),
            private_upstreams_allowed=True,
        ),
        ModelDefinition(
            id="2",
            organization_id="org-a",
            name="own",
            endpoints=(ModelEndpointDefinition(base_url="http://127.0.0.1:4/v1"),),
            private_upstreams_allowed=True,
        ),
    ]
    table = builder.build(configured, defined)
    assert len(table.find("org-b", "shared").endpoints) == 2  # type: ignore[union-attr]
    mine = table.find("org-a", "shared")
    assert mine is not None and mine.endpoints[0].headers["authorization"] == "Bearer k"
    assert table.find("org-b", "own") is None
    assert [d.name for d in table.visible("org-a")] == ["own", "shared"]
    # Health survives a rebuild.
    mine.endpoints[0].health.outstanding = 7
    again = builder.build(configured, defined).find("org-a", "shared")
    assert again is not None and again.endpoints[0].health.outstanding == 7


def test_routing_table_leaves_out_refused_upstreams() -> None:
    builder = RoutingTableBuilder(InferenceSettings())
    defined = [
        ModelDefinition(
            id="1",
            organization_id="o",
            name="private",
            endpoints=(ModelEndpointDefinition(base_url="http://127.0.0.1:9/v1"),),
        )
    ]
    configured = [ModelEndpointSettings(name="meta", base_url="http://169.254.169.254/v1")]
    table = builder.build(configured, defined)
    assert table.find("o", "private") is None  # API-defined loopback: not allowed here
    # Allowed where it was defined (the filtration process' setting): routed, and the
    # host is not one the resolver must hold to public addresses.
    allowed = builder.build(
        [], [msgspec.structs.replace(defined[0], private_upstreams_allowed=True)]
    )
    assert allowed.find("o", "private") is not None
    assert "127.0.0.1" not in allowed.strict_hosts
    assert table.find("o", "meta") is None  # metadata: never


@pytest.mark.parametrize(
    ("address", "allow_private", "refused"),
    [
        ("169.254.169.254", True, True),
        ("fe80::1", True, True),
        ("100.100.100.200", True, True),
        ("::ffff:169.254.169.254", True, True),
        ("0.0.0.0", True, True),
        ("127.0.0.1", True, False),
        ("127.0.0.1", False, True),
        ("10.1.2.3", False, True),
        ("192.168.0.1", True, False),
        ("8.8.8.8", False, False),
    ],
)
def test_ssrf_policy(address: str, allow_private: bool, refused: bool) -> None:
    assert (
        refusal(ipaddress.ip_address(address), allow_private=allow_private) is not None
    ) is refused


def test_check_url_resolves_names() -> None:
    with pytest.raises(SsrfRefused):
        check_url("http://localhost:8000/v1", allow_private=False)
    check_url("http://localhost:8000/v1", allow_private=True)
    with pytest.raises(SsrfRefused):
        check_url("file:///etc/passwd", allow_private=True)


async def test_guarded_resolver_filters_answers_at_connection_time() -> None:
    strict = GuardedResolver(lambda host: True)
    with pytest.raises(OSError, match="SSRF"):
        await strict.resolve("localhost", 80)
    lenient = GuardedResolver(lambda host: False)
    answers = await lenient.resolve("localhost", 80)
    assert answers and all(ipaddress.ip_address(a["host"]).is_loopback for a in answers)
    await strict.close()
    await lenient.close()
