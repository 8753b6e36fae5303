"""The limit evaluator: which limits apply to a request, and one state call to charge them.

Pure logic over a policy snapshot plus the one atomic script; the inference plane runs
it in its own process against the shared state backend. Plans (which buckets apply to
an organisation/user/key/model) are computed once per snapshot and reused, together
with everything derived from them (the bucket keys, whether tokens or a price are
needed, the script's argument templates), so the per request work is filling in the
amounts and one ``run_script``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field

import msgspec

from inferia.limits.model import (
    ALL_MODELS,
    LIMIT_FIELDS,
    SCOPES,
    LimitField,
    LimitValues,
    ModelPrice,
    OrgPolicies,
    Scope,
)
from inferia.limits.script import ADMIT_LIMITS
from inferia.state import ScriptCall, StateBackend

_PLAN_CACHE_MAX = 4096


@dataclass(frozen=True, slots=True)
class LimitCheck:
    """One bucket a request is charged in."""

    key: str
    field: LimitField
    limit: int  # requests, tokens, concurrent slots, or micro-USD
    scope: Scope
    subject: str
    model: str

    # The script's numbers for this limit but the amount, which is appended per request.
    spec: str = dc_field(init=False, repr=False, compare=False)
    # str(limit), for the x-ratelimit-limit-* headers.
    limit_text: str = dc_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.field.measure == "concurrent":
            spec = f"c {self.limit} 1 1 "
        else:
            spec = f"g {self.limit} {self.field.window_ticks} {self.field.tick_ms} "
        object.__setattr__(self, "spec", spec)
        object.__setattr__(self, "limit_text", str(self.limit))

    def describe(self) -> str:
        shown = self.limit / 1_000_000 if self.field.measure == "cost" else self.limit
        target = self.scope.replace("_", " ")
        model = "" if self.model == ALL_MODELS else f" on model '{self.model}'"
        return f"{self.field.name} ({self.field.description}) = {shown:g} of {target}{model}"


class _Template:
    """The script's limit numbers (ARGV[3]) with the request's tokens and cost, the only
    numbers that change from one request to the next, to fill in."""

    __slots__ = ("_format", "_pieces")

    def __init__(self, pieces: Sequence[tuple[str, str | int]]) -> None:
        # Per check, its spec and its amount: a fixed number, or "t" / "c" for the
        # request's tokens / cost ({0} / {1} of a str.format template).
        slot = {"t": "{0}", "c": "{1}"}
        self._format = " ".join(
            [spec + (str(a) if isinstance(a, int) else slot[a]) for spec, a in pieces]
        )
        # Without a cost (no budget applies), the text around the tokens: joining is
        # 4x cheaper than str.format.
        self._pieces = None if "{1}" in self._format else self._format.split("{0}")

    def fill(self, tokens: int, cost: int) -> str:
        if self._pieces is not None:
            return str(tokens).join(self._pieces)
        return self._format.format(tokens, cost)


_AMOUNT_SOURCE = {"tokens": "t", "cost": "c"}


class Plan(tuple[LimitCheck, ...]):
    """The limits one request is charged in (a tuple of ``LimitCheck``, in the script's
    order), with what admission derives from them, computed once per policy snapshot
    instead of per request: the bucket keys, whether the request's tokens (and price)
    are needed, each field's checks, and the script's argument templates."""

    keys: tuple[str, ...]
    needs_tokens: bool
    needs_price: bool
    # Whether an admitted request has anything to settle: token or cost reservations,
    # or concurrency slots (requests are counted once and for all).
    settles: bool
    # Field name -> the positions of its checks in the plan.
    positions: dict[str, tuple[int, ...]]
    _admit_specs: dict[int, _Template]  # per concurrency slot TTL (one per evaluator)
    _settle_specs: dict[tuple[bool, bool], tuple[tuple[str, ...], _Template] | None]

    def __new__(cls, checks: Iterable[LimitCheck] = ()) -> Plan:
        plan = super().__new__(cls, checks)
        plan.keys = tuple([check.key for check in plan])
        measures = {check.field.measure for check in plan}
        plan.needs_tokens = bool(measures & {"tokens", "cost"})
        plan.needs_price = "cost" in measures
        plan.settles = bool(measures - {"requests"})
        positions: dict[str, list[int]] = {}
        for index, check in enumerate(plan):
            positions.setdefault(check.field.name, []).append(index)
        plan.positions = {name: tuple(found) for name, found in positions.items()}
        plan._admit_specs = {}
        plan._settle_specs = {}
        return plan

    def admit_spec(self, slot_ttl_ms: int) -> _Template:
        """ARGV[3] of the admit call: one request, its tokens and cost, and a
        concurrency slot held for ``slot_ttl_ms``."""
        spec = self._admit_specs.get(slot_ttl_ms)
        if spec is None:
            fixed = {"requests": 1, "concurrent": slot_ttl_ms}
            spec = self._admit_specs[slot_ttl_ms] = _Template(
                [
                    (
                        check.spec,
                        _AMOUNT_SOURCE.get(check.field.measure) or fixed[check.field.measure],
                    )
                    for check in self
                ]
            )
        return spec

    def settle_spec(
        self, tokens_changed: bool, cost_changed: bool
    ) -> tuple[tuple[str, ...], _Template] | None:
        """The keys and ARGV[3] of a settle: the token buckets when the tokens changed,
        the cost buckets when the cost did, and every concurrency slot (amount 0); the
        amounts are the deltas. None when no bucket is touched."""
        cache_key = (tokens_changed, cost_changed)
        if cache_key in self._settle_specs:
            return self._settle_specs[cache_key]
        pieces: list[tuple[str, str | int]] = []
        keys: list[str] = []
        for check in self:
            measure = check.field.measure
            if measure == "concurrent":
                pieces.append((check.spec, 0))
            elif (measure == "tokens" and tokens_changed) or (measure == "cost" and cost_changed):
                pieces.append((check.spec, _AMOUNT_SOURCE[measure]))
            else:
                continue
            keys.append(check.key)
        found = (tuple(keys), _Template(pieces)) if keys else None
        self._settle_specs[cache_key] = found
        return found


def as_plan(checks: Iterable[LimitCheck]) -> Plan:
    return checks if isinstance(checks, Plan) else Plan(checks)


# What is left of one limit after an admit (Decision.states). The per-request value
# types are msgspec Structs, ~8x cheaper to build than frozen dataclasses.
class LimitState(msgspec.Struct, frozen=True):
    check: LimitCheck
    remaining: int
    reset_ms: int


# The admit script's reply (script.py): admitted, refused index (1-based, 0), retry ms,
# then per check of the plan: remaining, reset ms.
_PER_CHECK_AT = 3


class Decision(msgspec.Struct, frozen=True):
    """The admit script's verdict. What is left of each limit is read from the script's
    reply when asked for (``remaining``, ``reset_ms``; ``states`` builds them all)."""

    admitted: bool
    refused: LimitCheck | None
    retry_after_ms: int  # -1: can never fit (the request alone exceeds the limit)
    plan: Plan
    # The script's reply as it came: its layout is this class's business.
    reply: Sequence[int]

    @classmethod
    def of_reply(cls, plan: Plan, reply: Sequence[int]) -> Decision:
        refused = reply[1]
        return cls(bool(reply[0]), plan[refused - 1] if refused else None, reply[2], plan, reply)

    def remaining(self, index: int) -> int:
        """What is left of the plan's ``index``-th limit after this admit."""
        return int(self.reply[_PER_CHECK_AT + 2 * index])

    def reset_ms(self, index: int) -> int:
        """Milliseconds until the plan's ``index``-th limit is whole again."""
        return int(self.reply[_PER_CHECK_AT + 1 + 2 * index])

    @property
    def states(self) -> tuple[LimitState, ...]:
        return tuple(
            [
                LimitState(check, self.remaining(i), self.reset_ms(i))
                for i, check in enumerate(self.plan)
            ]
        )


class Charge(msgspec.Struct, frozen=True):
    """What one admitted request holds, to be settled when it ends."""

    checks: tuple[LimitCheck, ...]
    member: str
    tokens: int
    cost_micros: int


class CompiledPolicies:
    """An organisation's snapshot indexed for fast lookups, with a plan cache."""

    def __init__(self, policies: OrgPolicies, key_defaults: LimitValues) -> None:
        self.policies = policies
        self._key_defaults = key_defaults
        self._rules: dict[tuple[str, str, str], LimitValues] = {
            (r.scope, r.subject, r.model): r.limits for r in policies.rules
        }
        self._plans: dict[tuple[str, str | None, str, str], Plan] = {}

    def plan(self, organization_id: str, user_id: str | None, key_id: str, model: str) -> Plan:
        cache_key = (organization_id, user_id, key_id, model)
        plan = self._plans.get(cache_key)
        if plan is None:
            plan = self._build(organization_id, user_id, key_id, model)
            if len(self._plans) >= _PLAN_CACHE_MAX:
                self._plans.clear()
            self._plans[cache_key] = plan
        return plan

    def _build(self, organization_id: str, user_id: str | None, key_id: str, model: str) -> Plan:
        subjects: dict[Scope, str | None] = {
            "organization": organization_id,
            "user": user_id,
            "api_key": key_id,
        }
        checks: list[LimitCheck] = []
        for scope in SCOPES:
            subject = subjects[scope]
            if subject is None:
                continue
            layers: list[tuple[str, LimitValues | None]] = [
                (model, self._rules.get((scope, subject, model))),
                (ALL_MODELS, self._rules.get((scope, subject, ALL_MODELS))),
            ]
            if scope == "api_key":
                layers.append((ALL_MODELS, self._key_defaults))
            for field in LIMIT_FIELDS:
                for bucket_model, values in layers:
                    value = values.value(field.name) if values is not None else None
                    if value is None:
                        continue
                    limit = round(value * 1_000_000) if field.measure == "cost" else int(value)
                    if limit > 0:
                        key = (
                            f"inferia:lim:{{{organization_id}}}:{scope}:{subject}:"
                            f"{bucket_model}:{field.name}"
                        )
                        checks.append(LimitCheck(key, field, limit, scope, subject, bucket_model))
                    break
        return Plan(checks)


class LimitEvaluator:
    """Charges and settles plans against the state backend, one script call each."""

    def __init__(self, state: StateBackend, *, slot_ttl_ms: int) -> None:
        self._state = state
        self._slot_ttl_ms = slot_ttl_ms

    async def admit(
        self, plan: Iterable[LimitCheck], member: str, tokens: int, cost_micros: int
    ) -> tuple[Decision, Charge]:
        plan = as_plan(plan)
        spec = plan.admit_spec(self._slot_ttl_ms).fill(tokens, cost_micros)
        # A tuple: what the Redis client packs, without a copy.
        reply = await self._state.run_script(ADMIT_LIMITS, plan.keys, ("a", member, spec))
        return Decision.of_reply(plan, reply), Charge(plan, member, tokens, cost_micros)

    @property
    def state(self) -> StateBackend:
        return self._state

    async def settle(self, charge: Charge, tokens: int, cost_micros: int) -> None:
        """Settle now, in a call of its own (the request path defers ``settle_op``)."""
        op = self.settle_op(charge, tokens, cost_micros)
        if op is not None:
            await self._state.run_script(op.script, op.keys, op.args)

    def settle_op(self, charge: Charge, tokens: int, cost_micros: int) -> ScriptCall | None:
        """Replacing the reservation by the real usage and freeing concurrency slots, as
        an op for ``StateBackend.run_batch``; None when nothing changes (the reservation
        was exact and no concurrency slot is held)."""
        tokens_delta = tokens - charge.tokens
        cost_delta = cost_micros - charge.cost_micros
        found = as_plan(charge.checks).settle_spec(tokens_delta != 0, cost_delta != 0)
        if found is None:
            return None
        keys, spec = found
        return ScriptCall(
            ADMIT_LIMITS, keys, ("s", charge.member, spec.fill(tokens_delta, cost_delta))
        )


def price_for(prices: Mapping[str, ModelPrice], model: str) -> ModelPrice | None:
    return prices.get(model) or prices.get(ALL_MODELS)
