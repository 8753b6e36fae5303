"""Shared helpers of the guardrail unit tests: the real engine with installed scanners."""

from __future__ import annotations

from typing import Any

from inferia.guardrails import (
    CompiledPolicy,
    GuardrailEngine,
    Redactor,
    discover_factories,
    policy_from_builtins,
)


def engine() -> GuardrailEngine:
    return GuardrailEngine(discover_factories())


def compiled(
    input: list[dict[str, Any]] | None = None, output: list[dict[str, Any]] | None = None
) -> CompiledPolicy:
    return engine().compile(policy_from_builtins({"input": input or [], "output": output or []}))


def redact_all(text: str, *scanners: str) -> str:
    policy = compiled([{"scanner": name, "action": "redact"} for name in scanners])
    return Redactor().apply(text, policy.input.scan_inline(text))


def categories(text: str, scanner: str, **entry: Any) -> list[str]:
    policy = compiled([{"scanner": scanner, "action": "flag", **entry}])
    return sorted(f.category for f in policy.input.scan_inline(text))
