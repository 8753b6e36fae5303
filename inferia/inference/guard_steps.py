"""Guardrail steps of the request pipeline: guard input, guard output (whole replies and
streams).

The policy comes from an in-memory snapshot (``GuardrailPolicies``); scanning runs in
process with the pure engine from ``inferia.guardrails``. Findings go to
``ctx.extras["guardrails"]`` (for the request's inference log record), to the
``GuardrailMetrics`` counters and, at ``finish``, to the guardrail events stream
(``guardrail_events``, keyed by request id); the matched text never does.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from inferia.contracts import GuardrailPolicySource, GuardrailSnapshots
from inferia.guardrails import (
    BlockedText,
    CompiledPolicy,
    Direction,
    Finding,
    GuardrailEventSink,
    Recorder,
    Redactor,
    RuleSet,
    ScanLimits,
    StreamWindow,
    guard_slots,
    reply_slots,
    request_slots,
    scan_limits,
    start_scan_budget,
)
from inferia.inference.pipeline import RequestContext, Step, StreamBlocked, StreamTransform
from inferia.runtime import Runtime

EXTRAS_KEY = "guardrails"
_STATE_KEY = "guardrails.state"


class GuardrailPolicies(Protocol):
    """The effective policy of an organisation and model, from a cached snapshot."""

    async def policy_for(self, organization_id: str, model: str) -> CompiledPolicy: ...


class GuardrailMetrics:
    """In-process counters of findings by (scanner, category, action, direction)."""

    def __init__(self) -> None:
        self.findings: Counter[tuple[str, str, str, str]] = Counter()

    def count(self, finding: Finding, direction: Direction) -> None:
        self.findings[(finding.scanner, finding.category, finding.action, direction)] += 1


@dataclass(slots=True)
class _GuardState:
    policy: CompiledPolicy
    redactor: Redactor = field(default_factory=Redactor)
    records: list[dict[str, object]] = field(default_factory=list)


class _Guard:
    def __init__(
        self,
        policies: GuardrailPolicies,
        limits: ScanLimits,
        metrics: GuardrailMetrics,
        events: GuardrailEventSink | None,
    ) -> None:
        self.policies = policies
        self.limits = limits
        self.metrics = metrics
        self.events = events

    async def state(self, ctx: RequestContext) -> _GuardState:
        state: _GuardState | None = ctx.extras.get(_STATE_KEY)
        if state is None:
            policy = await self.policies.policy_for(ctx.principal.organization_id, ctx.model)
            state = _GuardState(policy)
            ctx.extras[_STATE_KEY] = state
            # The request's task: every later scan of this request draws on it.
            start_scan_budget(self.limits.pattern_budget_s)
        return state

    def recorder(self, state: _GuardState, ctx: RequestContext) -> Recorder:
        def record(finding: Finding, direction: Direction, where: str) -> None:
            self.metrics.count(finding, direction)
            state.records.append(finding.record(direction, where))
            ctx.extras[EXTRAS_KEY] = state.records

        return record


class GuardInputStep(Step):
    """After admission, before prompt shaping: every message, every role, tool calls."""

    name = "guard_input"

    def __init__(self, guard: _Guard) -> None:
        self._guard = guard

    async def before_upstream(self, ctx: RequestContext) -> None:
        state = await self._guard.state(ctx)
        rules = state.policy.input
        if rules:
            await guard_slots(
                rules,
                request_slots(ctx.api, ctx.body),
                state.redactor,
                direction="input",
                limits=self._guard.limits,
                record=self._guard.recorder(state, ctx),
            )

    async def finish(self, ctx: RequestContext) -> None:
        records = ctx.extras.get(EXTRAS_KEY)
        events = self._guard.events
        if records and events is not None:
            events.add(
                organization_id=ctx.principal.organization_id,
                request_id=ctx.request_id,
                key_id=ctx.principal.key_id,
                model=ctx.model,
                findings=records,
            )


class GuardOutputStep(Step):
    """Whole replies before they are returned; streams through a sliding window."""

    name = "guard_output"

    def __init__(self, guard: _Guard) -> None:
        self._guard = guard

    def wants_reply(self, ctx: RequestContext) -> bool:
        # The input step ran first and left the request's policy in its state.
        state: _GuardState | None = ctx.extras.get(_STATE_KEY)
        return state is None or bool(state.policy.output)

    async def after_response(self, ctx: RequestContext, reply: dict[str, Any]) -> dict[str, Any]:
        state = await self._guard.state(ctx)
        rules = state.policy.output
        if rules:
            await guard_slots(
                rules,
                reply_slots(ctx.api, reply),
                state.redactor,
                direction="output",
                limits=self._guard.limits,
                record=self._guard.recorder(state, ctx),
            )
        return reply

    def stream_transform(self, ctx: RequestContext) -> StreamTransform | None:
        state: _GuardState | None = ctx.extras.get(_STATE_KEY)
        if state is None or not state.policy.output.inline:
            return None
        return GuardStream(state.policy.output, state.redactor, self._guard.recorder(state, ctx))


class GuardStream:
    """The StreamTransform: one window per choice's content and per tool call's
    arguments. Offloaded (ML) scanners do not run on streams: they need whole texts."""

    def __init__(self, rules: RuleSet, redactor: Redactor, record: Recorder) -> None:
        self._rules = rules
        self._redactor = redactor
        self._record = record
        self._windows: dict[tuple[int, int], StreamWindow] = {}
        self._template: dict[str, Any] = {}

    def _window(self, key: tuple[int, int]) -> StreamWindow:
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = StreamWindow(
                self._rules,
                self._redactor,
                lambda finding: self._record(finding, "output", _where(key)),
            )
        return window

    def on_chunk(self, chunk: dict[str, Any]) -> dict[str, Any] | None:
        choices = chunk.get("choices")
        if not choices:
            return chunk
        if not self._template:
            self._template = {
                k: chunk[k] for k in ("id", "object", "created", "model") if k in chunk
            }
        try:
            held = all([self._choice(choice) for choice in choices])
        except BlockedText as blocked:
            self._record(blocked.finding, "output", "stream")
            raise StreamBlocked(
                "The model's reply was blocked by the guardrail policy: "
                f"{blocked.finding.category} ({blocked.finding.scanner} scanner)."
            ) from None
        if held and len(chunk) <= 5 and "usage" not in chunk:
            return None
        return chunk

    def _choice(self, choice: dict[str, Any]) -> bool:
        """Rewrite one choice in place; True when nothing in it needs sending now."""
        index = choice.get("index", 0)
        finished = choice.get("finish_reason") is not None
        delta = choice.get("delta")
        text = choice.get("text")
        if delta is None and (
            isinstance(text, str) or self._template.get("object") != "chat.completion.chunk"
        ):
            # Legacy completions: {"text": ...}; a final chunk may carry no "text" at all,
            # and the held-back words still go before its finish_reason.
            window = self._window((index, -1))
            out = window.push(text) if isinstance(text, str) else ""
            if finished:
                out += window.flush()
            if out or isinstance(text, str):
                choice["text"] = out
            return isinstance(text, str) and not out and not finished
        if delta is None:  # a chat chunk without a delta (a final one, say)
            delta = choice["delta"] = {}
        sendable = finished or len(delta) > 1 or "content" not in delta
        content = delta.get("content")
        if isinstance(content, str) and content:
            window = self._window((index, -1))
            delta["content"] = out = window.push(content)
            sendable = sendable or bool(out)
        tool_calls = delta.get("tool_calls")
        if isinstance(tool_calls, list):
            sendable = True
            for call in tool_calls:
                function = call.get("function") if isinstance(call, dict) else None
                arguments = function.get("arguments") if isinstance(function, dict) else None
                if isinstance(arguments, str) and arguments:
                    assert isinstance(function, dict)
                    function["arguments"] = self._window((index, call.get("index", 0))).push(
                        arguments
                    )
        if finished:
            self._flush_choice(index, delta)
        return not sendable

    def _flush_choice(self, index: int, delta: dict[str, Any]) -> None:
        for (choice, call), window in list(self._windows.items()):
            if choice != index or not window.pending:
                continue
            text = window.flush()
            if call < 0:
                delta["content"] = (delta.get("content") or "") + text
            else:
                delta.setdefault("tool_calls", []).append(
                    {"index": call, "function": {"arguments": text}}
                )

    def on_end(self) -> list[dict[str, Any]]:
        chunks: list[dict[str, Any]] = []
        try:
            for (index, call), window in self._windows.items():
                if not window.pending:
                    continue
                text = window.flush()
                if not text:
                    continue
                if self._template.get("object") == "text_completion":
                    choice: dict[str, Any] = {"index": index, "text": text, "finish_reason": None}
                elif call < 0:
                    choice = {"index": index, "delta": {"content": text}, "finish_reason": None}
                else:
                    choice = {
                        "index": index,
                        "delta": {"tool_calls": [{"index": call, "function": {"arguments": text}}]},
                        "finish_reason": None,
                    }
                chunks.append({**self._template, "choices": [choice]})
        except BlockedText as blocked:
            self._record(blocked.finding, "output", "stream")
            raise StreamBlocked(
                "The model's reply was blocked by the guardrail policy: "
                f"{blocked.finding.category} ({blocked.finding.scanner} scanner)."
            ) from None
        return chunks


def _where(key: tuple[int, int]) -> str:
    index, call = key
    return f"choices[{index}].delta." + ("content" if call < 0 else f"tool_calls[{call}].arguments")


def guard_steps(
    policies: GuardrailPolicies,
    limits: ScanLimits,
    metrics: GuardrailMetrics,
    events: GuardrailEventSink | None = None,
) -> tuple[GuardInputStep, GuardOutputStep]:
    guard = _Guard(policies, limits, metrics, events)
    return GuardInputStep(guard), GuardOutputStep(guard)


def guardrail_snapshots(runtime: Runtime, source: GuardrailPolicySource) -> GuardrailSnapshots:
    """The process' policy snapshots. ``source``: the in-process store, or the remote
    port (split mode), as the app factory chose."""
    snapshots = GuardrailSnapshots.from_settings(source, runtime.settings.guardrails, runtime.state)
    runtime.on_start(snapshots.start)
    runtime.on_stop(snapshots.close)
    return snapshots


def guardrail_event_sink(runtime: Runtime) -> GuardrailEventSink:
    sink = GuardrailEventSink(runtime.state)
    runtime.on_start(sink.start)
    runtime.on_stop(sink.close)
    return sink


def build_guard_steps(
    runtime: Runtime, source: GuardrailPolicySource, metrics: GuardrailMetrics
) -> tuple[GuardInputStep, GuardOutputStep]:
    """The guard steps of one process, with their snapshots and event sink."""
    return guard_steps(
        guardrail_snapshots(runtime, source),
        scan_limits(runtime.settings.guardrails),
        metrics,
        guardrail_event_sink(runtime),
    )
