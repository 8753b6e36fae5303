"""One scanner of a guardrail policy: one shape for inferia.toml and the engine.

``[guardrails] input/output`` are lists of these, and ``inferia.guardrails`` (policies
from the API, the engine) uses the same Struct (it re-exports it as ``PolicyEntry``).
It lives here because ``inferia.config`` is the lowest layer and may import nothing
above it.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

GuardrailAction = Literal["block", "redact", "flag"]
FailMode = Literal["open", "closed"]


class PolicyEntry(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One scanner in a policy: ``{ scanner = "pii", action = "redact" }``."""

    scanner: str
    action: GuardrailAction = "flag"
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
