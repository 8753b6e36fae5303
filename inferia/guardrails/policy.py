"""The guardrail policy model: which scanners run on input and on output, and how.

The same shape is used in inferia.toml (``[guardrails]``, the default of every
organisation), in the API (``/management/guardrails``) and in the policy snapshot the
inference plane holds.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from inferia.guardrails.findings import Action

FailMode = Literal["open", "closed"]


class PolicyEntry(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One scanner in a policy: ``{ scanner = "pii", action = "redact" }``."""

    scanner: str
    action: Action = "flag"
    # Findings scoring below this are ignored (scores are in [0, 1]); None: all count.
    threshold: float | None = None
    # Only these categories count; empty: all the scanner reports.
    categories: list[str] = msgspec.field(default_factory=list)
    # What an offloaded scanner's timeout or overload means: "open" lets the text
    # through (recorded), "closed" refuses it.
    fail_mode: FailMode = "closed"
    # Deny-list / word-list scanners.
    words: list[str] = msgspec.field(default_factory=list)
    patterns: list[str] = msgspec.field(default_factory=list)
    # Anything else a plugin scanner understands.
    options: dict[str, Any] = msgspec.field(default_factory=dict)

    def scanner_options(self) -> dict[str, Any]:
        merged: dict[str, Any] = dict(self.options)
        if self.words:
            merged["words"] = list(self.words)
        if self.patterns:
            merged["patterns"] = list(self.patterns)
        return merged


class GuardrailPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    input: list[PolicyEntry] = msgspec.field(default_factory=list)
    output: list[PolicyEntry] = msgspec.field(default_factory=list)
    # No effect: there is no prompt-shaping step yet. Kept because stored policies carry
    # the key and unknown keys are refused (docs/guardrails.md).
    rescan_shaped_prompt: bool = False

    @property
    def empty(self) -> bool:
        return not self.input and not self.output


def policy_from_builtins(data: Any) -> GuardrailPolicy:
    """A policy from plain data (TOML, JSON); raises msgspec.ValidationError."""
    return msgspec.convert(data, GuardrailPolicy)
