"""The limit evaluator: which limits apply to a request, and one state call to charge them.

Pure logic over a policy snapshot plus the one atomic script; the inference plane runs
it in its own process against the shared state backend. Plans (which buckets apply to
an organisation/user/key/model) are computed once per snapshot and reused, so the per
request work is filling in the amounts and one ``run_script``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field

import msgspec

from inferia.filtration.limits.model import (
    ALL_MODELS,
    LIMIT_FIELDS,
    SCOPES,
    LimitField,
    LimitValues,
    ModelPrice,
    OrgPolicies,
    Scope,
)
from inferia.filtration.limits.script import ADMIT_LIMITS
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

    def __post_init__(self) -> None:
        if self.field.measure == "concurrent":
            spec = f"c {self.limit} 1 1 "
        else:
            spec = f"g {self.limit} {self.field.window_ticks} {self.field.tick_ms} "
        object.__setattr__(self, "spec", spec)

    def describe(self) -> str:
        shown = self.limit / 1_000_000 if self.field.measure == "cost" else self.limit
        target = self.scope.replace("_", " ")
        model = "" if self.model == ALL_MODELS else f" on model '{self.model}'"
        return f"{self.field.name} ({self.field.description}) = {shown:g} of {target}{model}"


# Built on every admitted request: msgspec Structs, ~8x cheaper than frozen dataclasses.
class LimitState(msgspec.Struct, frozen=True):
    check: LimitCheck
    remaining: int
    reset_ms: int


class Decision(msgspec.Struct, frozen=True):
    admitted: bool
    states: tuple[LimitState, ...]
    refused: LimitCheck | None = None
    retry_after_ms: int = 0  # -1: can never fit (the request alone exceeds the limit)


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
        self._plans: dict[tuple[str, str | None, str, str], tuple[LimitCheck, ...]] = {}

    def plan(
        self, organization_id: str, user_id: str | None, key_id: str, model: str
    ) -> tuple[LimitCheck, ...]:
        cache_key = (organization_id, user_id, key_id, model)
        plan = self._plans.get(cache_key)
        if plan is None:
            plan = self._build(organization_id, user_id, key_id, model)
            if len(self._plans) >= _PLAN_CACHE_MAX:
                self._plans.clear()
            self._plans[cache_key] = plan
        return plan

    def _build(
        self, organization_id: str, user_id: str | None, key_id: str, model: str
    ) -> tuple[LimitCheck, ...]:
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
        return tuple(checks)


def needs_tokens(plan: tuple[LimitCheck, ...]) -> bool:
    return any(c.field.measure in ("tokens", "cost") for c in plan)


def needs_price(plan: tuple[LimitCheck, ...]) -> bool:
    return any(c.field.measure == "cost" for c in plan)


class LimitEvaluator:
    """Charges and settles plans against the state backend, one script call each."""

    def __init__(self, state: StateBackend, *, slot_ttl_ms: int) -> None:
        self._state = state
        self._slot_ttl_ms = slot_ttl_ms

    async def admit(
        self, plan: tuple[LimitCheck, ...], member: str, tokens: int, cost_micros: int
    ) -> tuple[Decision, Charge]:
        amounts = {
            "requests": 1,
            "tokens": tokens,
            "cost": cost_micros,
            "concurrent": self._slot_ttl_ms,
        }
        spec = " ".join([check.spec + str(amounts[check.field.measure]) for check in plan])
        reply = await self._state.run_script(
            ADMIT_LIMITS, [c.key for c in plan], ["a", member, spec]
        )
        values = [int(v) for v in reply]
        states = tuple(
            [
                LimitState(check, values[3 + 2 * i], values[4 + 2 * i])
                for i, check in enumerate(plan)
            ]
        )
        refused = plan[values[1] - 1] if values[1] else None
        decision = Decision(bool(values[0]), states, refused, values[2])
        return decision, Charge(plan, member, tokens, cost_micros)

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
        keys: list[str] = []
        specs: list[str] = []
        for check in charge.checks:
            measure = check.field.measure
            if measure == "tokens":
                delta = tokens - charge.tokens
            elif measure == "cost":
                delta = cost_micros - charge.cost_micros
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
        return ScriptCall(ADMIT_LIMITS, keys, ["s", charge.member, " ".join(specs)])


def price_for(prices: Mapping[str, ModelPrice], model: str) -> ModelPrice | None:
    return prices.get(model) or prices.get(ALL_MODELS)
