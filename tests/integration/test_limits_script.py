"""The atomic multi-limit script on both state backends: exact counts under concurrency.

Each Redis case uses two backend clients (two connection pools, as two gateway
processes would), each firing concurrently.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from inferia.limits import (
    CompiledPolicies,
    LimitEvaluator,
    LimitValues,
    OrgPolicies,
    PolicyRule,
)
from inferia.state import StateBackend, build_state_backend
from tests.conftest import BackendPair

SLOT_TTL_MS = 60_000


@pytest.fixture
async def second_state(
    backend_pair: BackendPair, state: StateBackend
) -> AsyncIterator[StateBackend]:
    """Another client of the same state: a second process with Redis, the same one in memory."""
    if not backend_pair.shared:
        yield state
        return
    other = build_state_backend(backend_pair.state_url)
    await other.start()
    try:
        yield other
    finally:
        await other.close()


def _plan(key_limits: LimitValues, org_limits: LimitValues | None = None):  # type: ignore[no-untyped-def]
    org, key = f"org-{uuid.uuid4().hex}", "key-1"
    rules = [PolicyRule(scope="api_key", subject=key, limits=key_limits)]
    if org_limits is not None:
        rules.append(PolicyRule(scope="organization", subject=org, limits=org_limits))
    compiled = CompiledPolicies(OrgPolicies(organization_id=org, rules=tuple(rules)), LimitValues())
    return compiled.plan(org, None, key, "m")


async def test_exactly_n_requests_admitted_across_two_clients(
    state: StateBackend, second_state: StateBackend
) -> None:
    plan = _plan(LimitValues(rpm=37))
    evaluators = [LimitEvaluator(s, slot_ttl_ms=SLOT_TTL_MS) for s in (state, second_state)]

    async def one(i: int) -> bool:
        decision, _ = await evaluators[i % 2].admit(plan, f"r{i}", 0, 0)
        return decision.admitted

    results = await asyncio.gather(*(one(i) for i in range(120)))
    assert sum(results) == 37
    decision, _ = await evaluators[0].admit(plan, "late", 0, 0)
    assert not decision.admitted
    assert decision.refused is not None and decision.refused.field.name == "rpm"
    # GCRA: the next request fits after one emission interval (60 s / 37), not a minute.
    assert 0 < decision.retry_after_ms <= 60_000 // 37 + 1


async def test_exact_tokens_and_refusal_changes_no_counter(
    state: StateBackend, second_state: StateBackend
) -> None:
    plan = _plan(LimitValues(rpm=1000, tpm=1000), org_limits=LimitValues(rpm=500))
    evaluators = [LimitEvaluator(s, slot_ttl_ms=SLOT_TTL_MS) for s in (state, second_state)]

    async def one(i: int) -> bool:
        decision, _ = await evaluators[i % 2].admit(plan, f"r{i}", 30, 0)
        return decision.admitted

    results = await asyncio.gather(*(one(i) for i in range(100)))
    assert sum(results) == 33  # 33 * 30 = 990 <= 1000 < 34 * 30
    # 67 refusals changed nothing: both rpm buckets still show exactly 33 charged.
    decision, _ = await evaluators[0].admit(plan, "probe", 10, 0)
    assert decision.admitted
    remaining = {(s.check.scope, s.check.field.name): s.remaining for s in decision.states}
    # (GCRA refills continuously: allow what a second of refill gives back.)
    assert 1000 - 34 <= remaining[("api_key", "rpm")] <= 1000 - 34 + 17
    assert 500 - 34 <= remaining[("organization", "rpm")] <= 500 - 34 + 9
    assert remaining[("api_key", "tpm")] <= 17


async def test_settle_replaces_reservation_by_real_usage(state: StateBackend) -> None:
    plan = _plan(LimitValues(tpm=1000, daily_tokens=5000))
    evaluator = LimitEvaluator(state, slot_ttl_ms=SLOT_TTL_MS)
    decision, charge = await evaluator.admit(plan, "a", 900, 0)
    assert decision.admitted
    refused, _ = await evaluator.admit(plan, "b", 200, 0)
    assert not refused.admitted and refused.refused is not None
    assert refused.refused.field.name == "tpm"
    await evaluator.settle(charge, 100, 0)  # the request really used 100 tokens
    decision, _ = await evaluator.admit(plan, "c", 850, 0)
    assert decision.admitted
    daily = next(s for s in decision.states if s.check.field.name == "daily_tokens")
    assert 5000 - 100 - 850 <= daily.remaining <= 5000 - 100 - 850 + 1


async def test_request_larger_than_the_limit_can_never_fit(state: StateBackend) -> None:
    plan = _plan(LimitValues(tpm=100))
    decision, _ = await LimitEvaluator(state, slot_ttl_ms=SLOT_TTL_MS).admit(plan, "a", 101, 0)
    assert not decision.admitted and decision.retry_after_ms == -1


async def test_concurrency_slots_exact_and_released(
    state: StateBackend, second_state: StateBackend
) -> None:
    plan = _plan(LimitValues(max_parallel=5))
    evaluators = [LimitEvaluator(s, slot_ttl_ms=SLOT_TTL_MS) for s in (state, second_state)]

    async def one(i: int) -> tuple[bool, object]:
        decision, charge = await evaluators[i % 2].admit(plan, f"r{i}", 0, 0)
        return decision.admitted, charge

    results = await asyncio.gather(*(one(i) for i in range(40)))
    held = [charge for admitted, charge in results if admitted]
    assert len(held) == 5
    await evaluators[0].settle(held[0], 0, 0)  # type: ignore[arg-type]
    again = await asyncio.gather(*(one(i) for i in range(100, 110)))
    assert sum(1 for admitted, _ in again if admitted) == 1


async def test_concurrency_slot_of_a_crashed_gateway_expires(state: StateBackend) -> None:
    plan = _plan(LimitValues(max_parallel=1))
    evaluator = LimitEvaluator(state, slot_ttl_ms=300)
    assert (await evaluator.admit(plan, "lost", 0, 0))[0].admitted  # never settled
    assert not (await evaluator.admit(plan, "b", 0, 0))[0].admitted
    await asyncio.sleep(0.4)
    assert (await evaluator.admit(plan, "c", 0, 0))[0].admitted


async def test_budget_in_micro_usd(state: StateBackend) -> None:
    plan = _plan(LimitValues(daily_budget=0.01))  # 10_000 micro-USD
    evaluator = LimitEvaluator(state, slot_ttl_ms=SLOT_TTL_MS)
    _, charge = await evaluator.admit(plan, "a", 0, 6_000)
    await evaluator.settle(charge, 0, 9_000)  # it cost more than reserved
    decision, _ = await evaluator.admit(plan, "b", 0, 2_000)
    assert not decision.admitted
    assert decision.refused is not None and "daily_budget" in decision.refused.describe()
    assert (await evaluator.admit(plan, "c", 0, 1_000))[0].admitted


async def test_most_specific_policy_wins_and_defaults_apply() -> None:
    org = "o"
    compiled = CompiledPolicies(
        OrgPolicies(
            organization_id=org,
            rules=(
                PolicyRule(scope="api_key", subject="k", limits=LimitValues(rpm=100)),
                PolicyRule(scope="api_key", subject="k", model="big", limits=LimitValues(rpm=5)),
                PolicyRule(scope="api_key", subject="k2", limits=LimitValues(tpm=0)),
                PolicyRule(scope="organization", subject=org, limits=LimitValues(rpm=1000)),
            ),
        ),
        LimitValues(tpm=777),
    )
    small = {(c.scope, c.field.name): (c.limit, c.model) for c in compiled.plan(org, "u", "k", "s")}
    big = {(c.scope, c.field.name): (c.limit, c.model) for c in compiled.plan(org, "u", "k", "big")}
    assert small == {
        ("organization", "rpm"): (1000, "*"),
        ("api_key", "rpm"): (100, "*"),
        ("api_key", "tpm"): (777, "*"),
    }
    assert big[("api_key", "rpm")] == (5, "big")
    assert big[("organization", "rpm")] == (1000, "*")
    # 0 overrides the default: no tpm for k2.
    assert {c.field.name for c in compiled.plan(org, None, "k2", "s")} == {"rpm"}
