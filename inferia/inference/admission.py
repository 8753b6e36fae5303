"""The admit step (and its settle half): every limit of a request in one state call.

Before the upstream call the request's plan (its organisation's, user's and key's
limits for this model, from the cached policy snapshot) is charged atomically: one
request, the reserved tokens (prompt counted with tiktoken + max_tokens capped to the
model's maximum) and their cost. A refusal is a 429 naming the limit, with the
``retry-after`` and ``x-ratelimit-*`` headers OpenAI sends; the same headers go on
admitted responses. When the request ends, the reservation is replaced by the real
usage and concurrency slots are freed: a script call deferred to the pipeline's end,
where it shares one round trip with the usage event.

When the state backend cannot be reached, ``[limits] on_state_error`` decides:
``fail_closed`` answers 503, ``fail_open`` admits, counts the miss and warns. Requests
a cost budget applies to follow ``budgets_on_state_error`` (fail_closed by default).
There is never a fallback to per-process counters.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import msgspec

from inferia.config import LimitsSettings
from inferia.contracts import PolicySnapshots, PolicySource
from inferia.core.errors import PermissionDeniedError, RateLimitedError, StateError
from inferia.inference.pipeline import RequestContext, Step, StreamedText, StreamTransform
from inferia.inference.tokens import TokenCounter, counted_off_loop
from inferia.inference.usage_sink import UsageSink
from inferia.limits import Charge, Decision, LimitEvaluator, ModelPrice, price_for
from inferia.runtime import Runtime

log = logging.getLogger(__name__)
_EXTRAS_KEY = "admission"
_WARN_EVERY_S = 10.0


class _Held(msgspec.Struct):
    charge: Charge
    price: ModelPrice | None
    prompt_tokens: int
    # Text relayed so far, for streams of token-limited requests: if the client goes
    # away no usage arrives, and the reservation is settled to what was streamed.
    streamed: list[str] | None = None


class AdmissionStep(Step):
    name = "admit"

    def __init__(
        self,
        snapshots: PolicySnapshots,
        evaluator: LimitEvaluator,
        counter: TokenCounter,
        prices: dict[str, ModelPrice],
        settings: LimitsSettings,
    ) -> None:
        self.snapshots = snapshots
        self._evaluator = evaluator
        self._counter = counter
        self._prices = prices
        self._settings = settings
        # Requests admitted without a state call because the backend was down (fail_open).
        self.admitted_without_state = 0
        self.settle_failures = 0
        self._last_warning = 0.0

    def max_tokens_cap(self, model: str) -> int:
        return self._settings.model_max_tokens.get(model, self._settings.max_tokens)

    async def before_upstream(self, ctx: RequestContext) -> None:
        completion = self._cap_max_tokens(ctx)
        principal = ctx.principal
        compiled = await self.snapshots.get(principal.organization_id)
        plan = compiled.plan(
            principal.organization_id, principal.user_id, principal.key_id, ctx.model
        )
        if not plan:
            return
        tokens = cost = prompt = 0
        price: ModelPrice | None = None
        if plan.needs_tokens:
            prompt = await counted_off_loop(
                ctx.body_size, self._counter.prompt_tokens, ctx.model, ctx.api, ctx.body
            )
            tokens = prompt + completion
            if plan.needs_price:
                price = price_for(self._prices, ctx.model)
                if price is None:
                    raise PermissionDeniedError(
                        f"model '{ctx.model}' has no configured price, so its cost budget "
                        "cannot be enforced; ask the operator to add it to [pricing]"
                    )
                cost = price.cost_micros(prompt, completion)
        try:
            decision, charge = await self._evaluator.admit(plan, ctx.request_id, tokens, cost)
        except StateError as exc:
            self._on_state_error(exc, budget=plan.needs_price)
            return
        if not decision.admitted:
            headers = rate_limit_headers(decision)
            ctx.response_headers.update(headers)
            raise _refusal(decision, headers)
        add_rate_limit_headers(decision, ctx.response_headers)
        if plan.settles:
            ctx.extras[_EXTRAS_KEY] = _Held(charge, price, prompt)

    def stream_transform(self, ctx: RequestContext) -> StreamTransform | None:
        held: _Held | None = ctx.extras.get(_EXTRAS_KEY)
        if held is None or not held.charge.tokens:
            return None
        held.streamed = []
        return StreamedText(held.streamed)

    async def finish(self, ctx: RequestContext) -> None:
        held: _Held | None = ctx.extras.pop(_EXTRAS_KEY, None)
        if held is None:
            return
        charge = held.charge
        usage = ctx.usage
        if usage is not None:
            prompt, completion = usage.prompt_tokens, usage.completion_tokens
            tokens = prompt + completion
            cost = held.price.cost_micros(prompt, completion) if held.price else 0
        elif held.streamed is not None:
            # A stream that ended without usage (the client went away): what was sent.
            prompt = held.prompt_tokens
            text = "".join(held.streamed)
            completion = await counted_off_loop(len(text), self._counter.count, ctx.model, text)
            tokens = prompt + completion
            cost = held.price.cost_micros(prompt, completion) if held.price else 0
        elif ctx.first_token_at is not None:
            # Output flowed but its size is unknown: keep the whole reservation.
            tokens, cost = charge.tokens, charge.cost_micros
        else:
            # Nothing came back (refused by a later step, upstream failed): nothing used.
            tokens = cost = 0
        op = self._evaluator.settle_op(charge, tokens, cost)
        if op is not None:
            # Sent with the other steps' end-of-request writes, in one round trip.
            ctx.defer(self._evaluator.state, op, self._settled)

    def _settled(self, ctx: RequestContext, result: Any) -> None:
        if isinstance(result, StateError):
            self.settle_failures += 1
            log.warning("could not settle request %s: %s", ctx.request_id, result.message)

    def _cap_max_tokens(self, ctx: RequestContext) -> int:
        """Cap the request's max_tokens to the model's maximum; the completion to reserve."""
        if ctx.api == "embeddings":
            return 0
        cap = self.max_tokens_cap(ctx.model)
        body = ctx.body
        field = "max_completion_tokens" if "max_completion_tokens" in body else "max_tokens"
        requested = body.get(field)
        if isinstance(requested, int) and not isinstance(requested, bool) and requested > 0:
            if requested > cap:
                body[field] = cap
                return cap
            return requested
        return min(self._settings.default_max_tokens, cap)

    def _on_state_error(self, exc: StateError, *, budget: bool) -> None:
        settings = self._settings
        mode = settings.budgets_on_state_error if budget else settings.on_state_error
        if mode == "fail_closed":
            raise StateError(
                "rate limiting is unavailable (state backend unreachable); try again shortly"
            ) from exc
        self.admitted_without_state += 1
        now = time.monotonic()
        if now - self._last_warning >= _WARN_EVERY_S:
            self._last_warning = now
            log.warning(
                "state backend unreachable: admitting without limits (fail_open); "
                "%d request(s) so far: %s",
                self.admitted_without_state,
                exc.message,
            )


def _refusal(decision: Decision, headers: dict[str, str]) -> RateLimitedError:
    refused = decision.refused
    assert refused is not None
    if decision.retry_after_ms < 0:
        message = (
            f"Request too large for {refused.describe()}: it alone needs more than the limit. "
            "Lower max_tokens or the prompt."
        )
        return RateLimitedError(message, param=refused.field.name, headers=headers)
    retry_s = decision.retry_after_ms / 1000
    message = f"Rate limit reached: {refused.describe()}. Try again in {retry_s:.3g}s."
    return RateLimitedError(
        message, retry_after_s=retry_s, param=refused.field.name, headers=headers
    )


# The fields the x-ratelimit-* headers report, with their header names.
_HEADER_FIELDS = tuple(
    (
        field,
        f"x-ratelimit-limit-{suffix}",
        f"x-ratelimit-remaining-{suffix}",
        f"x-ratelimit-reset-{suffix}",
    )
    for field, suffix in (("rpm", "requests"), ("tpm", "tokens"))
)


def rate_limit_headers(decision: Decision) -> dict[str, str]:
    """OpenAI's x-ratelimit-* headers from the tightest rpm and tpm limits charged."""
    headers: dict[str, str] = {}
    add_rate_limit_headers(decision, headers)
    return headers


def add_rate_limit_headers(decision: Decision, headers: dict[str, str]) -> None:
    """``rate_limit_headers(decision)``, written into ``headers``."""
    plan = decision.plan
    positions = plan.positions
    for field, limit_name, remaining_name, reset_name in _HEADER_FIELDS:
        found = positions.get(field)
        if found is None:
            continue
        best = found[0]
        if len(found) > 1:
            # The tightest: the least remaining, the first of equals.
            best = min(found, key=decision.remaining)
        headers[limit_name] = plan[best].limit_text
        headers[remaining_name] = str(decision.remaining(best))
        headers[reset_name] = duration(decision.reset_ms(best))


# Resets under a second, formatted once: "0ms" ... "999ms".
_MILLISECONDS = tuple(f"{ms}ms" for ms in range(1000))


def duration(ms: int) -> str:
    """OpenAI's reset format: "20ms", "1s", "1.5s", "6m0s", "1h2m3s"."""
    if ms < 1000:
        return _MILLISECONDS[ms] if ms >= 0 else "0ms"
    # In integers: the text formatting float seconds to 3 decimals gave, exactly.
    seconds, millis = divmod(ms, 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{secs}.{millis:03d}".rstrip("0") + "s" if millis else f"{secs}s"
    if hours:
        return f"{hours}h{minutes}m{text}"
    if minutes:
        return f"{minutes}m{text}"
    return text


def policy_steps(
    runtime: Runtime, source: PolicySource, counter: TokenCounter
) -> tuple[AdmissionStep, UsageSink]:
    """The admit step and the usage sink, sharing one cached policy snapshot.

    ``source`` is the in-process policy store when the filtration plane runs here,
    else the ``/internal/policies`` client: the app factory chose.
    """
    settings = runtime.settings
    limits = settings.limits
    snapshots = PolicySnapshots(
        source,
        runtime.state,
        limits.key_defaults,
        limits.policy_cache_ttl_s,
    )
    runtime.on_start(snapshots.start)
    runtime.on_stop(snapshots.close)
    # Config and the evaluator share the Structs (inferia/config/limits.py): no copies.
    prices = settings.pricing
    evaluator = LimitEvaluator(runtime.state, slot_ttl_ms=int(limits.slot_ttl_s * 1000))
    admission = AdmissionStep(snapshots, evaluator, counter, prices, limits)
    sink = UsageSink(
        runtime.state, snapshots, prices, settings.usage, settings.security.encryption_key
    )
    runtime.on_start(sink.backlog.start)
    runtime.on_stop(sink.backlog.close)
    return admission, sink
