"""What a limit policy says, as the inference plane receives it in a snapshot.

A policy belongs to an organisation and names a scope (the whole organisation, one
user, or one API key) and optionally one model (``"*"``: every model). For each limit
field, the most specific value wins: the policy for this scope and model, else the
scope's all-models policy, else (for API keys) the ``[limits.key_defaults]`` of
inferia.toml. Every scope that ends up with a value applies: an organisation's rpm and
a key's rpm are both checked. ``None`` means "inherit"; ``0`` means "no limit here"
(it overrides an inherited one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import msgspec

# Shared with inferia.toml ([limits.key_defaults], [pricing]): declared once, in config.
from inferia.config.limits import LimitValues as LimitValues
from inferia.config.limits import ModelPrice as ModelPrice

Scope = Literal["organization", "user", "api_key"]
SCOPES: tuple[Scope, ...] = ("organization", "user", "api_key")
ALL_MODELS = "*"
Measure = Literal["requests", "tokens", "cost", "concurrent"]

_MINUTE_MS = 60_000
_DAY_MS = 86_400_000
_MONTH_MS = 30 * _DAY_MS
# A window is cut into at most this many ticks, so limit * ticks stays below 2**53
# (Lua numbers are doubles) for any limit up to MAX_LIMIT.
_TICKS_PER_WINDOW = 100_000
MAX_LIMIT = 90_000_000_000


@dataclass(frozen=True, slots=True)
class LimitField:
    name: str
    measure: Measure
    window_ms: int
    description: str

    @property
    def tick_ms(self) -> int:
        return max(1, -(-self.window_ms // _TICKS_PER_WINDOW))

    @property
    def window_ticks(self) -> int:
        return self.window_ms // self.tick_ms


LIMIT_FIELDS: tuple[LimitField, ...] = (
    LimitField("rpm", "requests", _MINUTE_MS, "requests per minute"),
    LimitField("tpm", "tokens", _MINUTE_MS, "tokens per minute"),
    LimitField("max_parallel", "concurrent", 0, "concurrent requests"),
    LimitField("daily_tokens", "tokens", _DAY_MS, "tokens per day"),
    LimitField("monthly_tokens", "tokens", _MONTH_MS, "tokens per 30 days"),
    LimitField("daily_budget", "cost", _DAY_MS, "cost budget per day (USD)"),
    LimitField("monthly_budget", "cost", _MONTH_MS, "cost budget per 30 days (USD)"),
)
FIELD_BY_NAME = {f.name: f for f in LIMIT_FIELDS}
BUDGET_FIELDS = frozenset(f.name for f in LIMIT_FIELDS if f.measure == "cost")
# LimitValues (declared in config) holds exactly these limits.
if tuple(FIELD_BY_NAME) != LimitValues.__struct_fields__:
    raise RuntimeError("LIMIT_FIELDS and LimitValues name different limits")


class PolicyRule(msgspec.Struct, frozen=True, kw_only=True):
    scope: Scope
    subject: str
    model: str = ALL_MODELS
    limits: LimitValues


class OrgPolicies(msgspec.Struct, frozen=True, kw_only=True):
    """Everything admission needs about one organisation: its rules and log settings."""

    organization_id: str
    rules: tuple[PolicyRule, ...] = ()
    # None: the ``[usage] log_bodies`` default applies.
    log_bodies: bool | None = None
