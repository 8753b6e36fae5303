"""What admission precomputes per plan (keys, flags, the script's argument templates)
and the x-ratelimit-* headers: the same as computing it all per request."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import pytest

from inferia.inference.admission import duration, rate_limit_headers
from inferia.limits import (
    ADMIT_LIMITS,
    Charge,
    CompiledPolicies,
    LimitCheck,
    LimitEvaluator,
    LimitValues,
    OrgPolicies,
    Plan,
    PolicyRule,
)
from inferia.state import AtomicScript, MemoryStateBackend, ScriptArg

ORG, USER, KEY = "org", "user", "key"
SLOT_TTL_MS = 45_000
# Every combination of the four measures: requests, tokens, concurrent, cost.
CASES = [
    LimitValues(rpm=5),
    LimitValues(tpm=100),
    LimitValues(max_parallel=2),
    LimitValues(daily_budget=1.5),
    LimitValues(rpm=5, tpm=100, max_parallel=2, daily_tokens=1000),
    LimitValues(tpm=100, daily_budget=2.0),
    LimitValues(rpm=5, max_parallel=3),
    LimitValues(
        rpm=5,
        tpm=100,
        max_parallel=2,
        daily_tokens=1000,
        monthly_tokens=5000,
        daily_budget=1.0,
        monthly_budget=3.0,
    ),
]


def _plan(key_limits: LimitValues, org_limits: LimitValues | None = None) -> Plan:
    rules = [PolicyRule(scope="api_key", subject=KEY, limits=key_limits)]
    if org_limits is not None:
        rules.append(PolicyRule(scope="organization", subject=ORG, limits=org_limits))
    compiled = CompiledPolicies(OrgPolicies(organization_id=ORG, rules=tuple(rules)), LimitValues())
    return compiled.plan(ORG, USER, KEY, "m")


class Recorder:
    """A state backend stand-in: records the script call, answers ``reply``."""

    def __init__(self, reply: list[int]) -> None:
        self.reply = reply
        self.calls: list[tuple[Sequence[str], Sequence[ScriptArg]]] = []

    async def run_script(
        self, script: AtomicScript, keys: Sequence[str], args: Sequence[ScriptArg]
    ) -> Any:
        assert script is ADMIT_LIMITS
        self.calls.append((keys, args))
        return self.reply


def _admit_spec(plan: Sequence[LimitCheck], tokens: int, cost: int) -> str:
    """ARGV[3] as admission built it per request before plans were precomputed."""
    amounts = {"requests": 1, "tokens": tokens, "cost": cost, "concurrent": SLOT_TTL_MS}
    return " ".join(c.spec + str(amounts[c.field.measure]) for c in plan)


def _settle(charge: Charge, tokens: int, cost: int) -> tuple[list[str], list[str]] | None:
    """The settle's keys and ARGV, as settle_op built them per request before."""
    keys: list[str] = []
    specs: list[str] = []
    for check in charge.checks:
        measure = check.field.measure
        if measure == "tokens":
            delta = tokens - charge.tokens
        elif measure == "cost":
            delta = cost - charge.cost_micros
        elif measure == "concurrent":
            delta = 0
        else:
            continue
        if delta == 0 and measure != "concurrent":
            continue
        keys.append(check.key)
        specs.append(check.spec + str(delta))
    if not keys:
        return None
    return keys, ["s", charge.member, " ".join(specs)]


def test_empty_plan_is_an_empty_tuple() -> None:
    compiled = CompiledPolicies(OrgPolicies(organization_id=ORG), LimitValues())
    plan = compiled.plan(ORG, None, KEY, "m")
    assert plan == () and not plan and isinstance(plan, tuple)
    assert (plan.keys, plan.needs_tokens, plan.needs_price) == ((), False, False)


@pytest.mark.parametrize("limits", CASES)
def test_plan_precomputes_keys_and_flags(limits: LimitValues) -> None:
    plan = _plan(limits, LimitValues(rpm=50))
    assert plan.keys == tuple(c.key for c in plan)
    measures = {c.field.measure for c in plan}
    assert plan.needs_tokens == bool(measures & {"tokens", "cost"})
    assert plan.needs_price == ("cost" in measures)
    for name, positions in plan.positions.items():
        assert [plan[i].field.name for i in positions] == [name] * len(positions)
    assert sum(len(p) for p in plan.positions.values()) == len(plan)
    for check in plan:
        assert check.limit_text == str(check.limit)


def test_plans_are_cached_per_snapshot() -> None:
    rules = (PolicyRule(scope="api_key", subject=KEY, limits=LimitValues(tpm=10)),)
    compiled = CompiledPolicies(OrgPolicies(organization_id=ORG, rules=rules), LimitValues())
    assert compiled.plan(ORG, None, KEY, "m") is compiled.plan(ORG, None, KEY, "m")


@pytest.mark.parametrize("limits", CASES)
async def test_admit_sends_what_a_per_request_build_would(limits: LimitValues) -> None:
    plan = _plan(limits, LimitValues(rpm=50, tpm=10_000))
    state = Recorder([1, 0, 0] + [7, 11] * len(plan))
    evaluator = LimitEvaluator(state, slot_ttl_ms=SLOT_TTL_MS)  # type: ignore[arg-type]
    for tokens, cost in [(0, 0), (40, 0), (0, 17), (12, 3_000), (40, 0)]:
        decision, charge = await evaluator.admit(plan, "req-1", tokens, cost)
        keys, args = state.calls[-1]
        assert list(keys) == [c.key for c in plan]
        assert list(args) == ["a", "req-1", _admit_spec(plan, tokens, cost)]
        assert decision.admitted and decision.refused is None and decision.retry_after_ms == 0
        assert [(s.check, s.remaining, s.reset_ms) for s in decision.states] == [
            (c, 7, 11) for c in plan
        ]
        assert charge == Charge(plan, "req-1", tokens, cost)
    # A plain tuple of checks works too.
    await evaluator.admit(tuple(plan), "req-2", 5, 6)
    assert list(state.calls[-1][1]) == ["a", "req-2", _admit_spec(plan, 5, 6)]


async def test_refusal_names_the_check() -> None:
    plan = _plan(LimitValues(rpm=5, tpm=100))
    state = Recorder([0, 2, -1, 4, 0, 100, 0])
    decision, _ = await LimitEvaluator(state, slot_ttl_ms=1).admit(plan, "r", 500, 0)  # type: ignore[arg-type]
    assert not decision.admitted and decision.retry_after_ms == -1
    assert decision.refused is plan[1] and decision.refused.field.name == "tpm"


@pytest.mark.parametrize("limits", CASES)
def test_settle_op_is_what_a_per_request_build_would_make(limits: LimitValues) -> None:
    plan = _plan(limits, LimitValues(max_parallel=9))
    evaluator = LimitEvaluator(MemoryStateBackend(), slot_ttl_ms=SLOT_TTL_MS)
    charge = Charge(plan, "req-9", 100, 2_000)
    for tokens, cost in itertools.product([0, 60, 100, 130], [0, 1_500, 2_000, 2_500]):
        for checks in (plan, tuple(plan)):
            op = evaluator.settle_op(Charge(checks, "req-9", 100, 2_000), tokens, cost)
            expected = _settle(charge, tokens, cost)
            if expected is None:
                assert op is None
            else:
                assert op is not None and op.script is ADMIT_LIMITS
                assert (list(op.keys), list(op.args)) == expected


def test_settle_op_without_anything_to_settle() -> None:
    evaluator = LimitEvaluator(MemoryStateBackend(), slot_ttl_ms=SLOT_TTL_MS)
    rpm_only = _plan(LimitValues(rpm=3))
    assert evaluator.settle_op(Charge(rpm_only, "r", 0, 0), 50, 9) is None
    tokens = _plan(LimitValues(tpm=300))
    assert evaluator.settle_op(Charge(tokens, "r", 40, 0), 40, 0) is None


async def test_headers_come_from_the_tightest_rpm_and_tpm() -> None:
    # Organisation and key limits of each: rpm (key 5, org 50), tpm (key 100, org 1000).
    plan = _plan(LimitValues(rpm=5, tpm=100, max_parallel=2), LimitValues(rpm=50, tpm=1000))
    names = [(c.scope, c.field.name) for c in plan]
    remaining = {
        ("organization", "rpm"): (40, 1200),
        ("organization", "tpm"): (30, 61_500),
        ("api_key", "rpm"): (4, 12_000),
        ("api_key", "tpm"): (30, 500),
        ("api_key", "max_parallel"): (0, 0),
    }
    reply = [1, 0, 0]
    for name in names:
        reply += remaining[name]
    decision, _ = await LimitEvaluator(Recorder(reply), slot_ttl_ms=1).admit(plan, "r", 1, 0)  # type: ignore[arg-type]
    headers = rate_limit_headers(decision)
    # tpm: 30 left on both; the first in the plan (the organisation's) is reported.
    assert list(headers.items()) == [
        ("x-ratelimit-limit-requests", "5"),
        ("x-ratelimit-remaining-requests", "4"),
        ("x-ratelimit-reset-requests", "12s"),
        ("x-ratelimit-limit-tokens", "1000"),
        ("x-ratelimit-remaining-tokens", "30"),
        ("x-ratelimit-reset-tokens", "1m1.5s"),
    ]
    only_parallel = _plan(LimitValues(max_parallel=2))
    decision, _ = await LimitEvaluator(Recorder([1, 0, 0, 1, 0]), slot_ttl_ms=1).admit(  # type: ignore[arg-type]
        only_parallel, "r", 0, 0
    )
    assert rate_limit_headers(decision) == {}


def _float_duration(ms: int) -> str:
    """The reset format as it was computed before (float seconds)."""
    if ms < 1000:
        return f"{max(0, ms)}ms"
    seconds = ms / 1000
    hours, rest = divmod(int(seconds), 3600)
    minutes = rest // 60
    secs = seconds - hours * 3600 - minutes * 60
    text = f"{secs:.3f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{hours}h{minutes}m{text}"
    if minutes:
        return f"{minutes}m{text}"
    return text


def test_duration_format() -> None:
    assert [duration(ms) for ms in (-5, 0, 20, 999, 1000, 1500, 1010, 360_000, 3_723_004)] == [
        "0ms",
        "0ms",
        "20ms",
        "999ms",
        "1s",
        "1.5s",
        "1.01s",
        "6m0s",
        "1h2m3.004s",
    ]
    samples = itertools.chain(
        range(-10, 200_000, 7),
        range(3_500_000, 3_700_000, 13),
        (h * 3_600_000 + m * 60_000 + x for h in (1, 23, 719) for m in (0, 59) for x in (1, 999)),
        (2_592_000_000, 2_592_000_001, 86_399_999),
    )
    for ms in samples:
        assert duration(ms) == _float_duration(ms), ms
