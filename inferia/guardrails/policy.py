"""The guardrail policy model: which scanners run on input and on output, and how.

The same shape is used in inferia.toml (``[guardrails]``, the default of every
organisation), in the API (``/management/guardrails``) and in the policy snapshot the
inference plane holds.
"""

from __future__ import annotations

from typing import Any

import msgspec

# One scanner of a policy, shared with inferia.toml's [guardrails]: declared in config.
from inferia.config.guardrails import FailMode as FailMode
from inferia.config.guardrails import PolicyEntry as PolicyEntry


class GuardrailPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    input: list[PolicyEntry] = msgspec.field(default_factory=list)
    output: list[PolicyEntry] = msgspec.field(default_factory=list)
    # No effect: input scanning runs after prompt shaping, so the shaped prompt is always
    # the one scanned. Kept because stored policies carry the key and unknown keys are
    # refused (docs/guardrails.md).
    rescan_shaped_prompt: bool = False

    @property
    def empty(self) -> bool:
        return not self.input and not self.output


def policy_from_builtins(data: Any) -> GuardrailPolicy:
    """A policy from plain data (TOML, JSON); raises msgspec.ValidationError."""
    return msgspec.convert(data, GuardrailPolicy)
