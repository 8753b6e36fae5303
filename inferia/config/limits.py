"""Limit values and model prices: one shape for inferia.toml and the limits library.

``[limits.key_defaults]`` and ``[pricing."<model>"]`` are read into these Structs, and
``inferia.limits`` (policies, admission, usage) uses the same ones (it re-exports them),
so the settings need no conversion. They live here because ``inferia.config`` is the
lowest layer and may import nothing above it.
"""

from __future__ import annotations

import msgspec


class LimitValues(
    msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, forbid_unknown_fields=True
):
    """Limits of one policy; budgets in USD, the rest in requests or tokens.

    ``None`` means "inherit"; ``0`` means "no limit here" (it overrides an inherited one).
    """

    rpm: int | None = None
    tpm: int | None = None
    max_parallel: int | None = None
    daily_tokens: int | None = None
    monthly_tokens: int | None = None
    daily_budget: float | None = None
    monthly_budget: float | None = None

    def value(self, name: str) -> int | float | None:
        result: int | float | None = getattr(self, name)
        return result

    def has_budget(self) -> bool:
        return bool(self.daily_budget or self.monthly_budget)


# ``[limits.key_defaults]``: every limit listed, 0 (no limit) unless set.
NO_LIMITS = LimitValues(
    rpm=0,
    tpm=0,
    max_parallel=0,
    daily_tokens=0,
    monthly_tokens=0,
    daily_budget=0.0,
    monthly_budget=0.0,
)


class ModelPrice(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """USD per million prompt and completion tokens."""

    prompt: float
    completion: float

    def cost_micros(self, prompt_tokens: int, completion_tokens: int) -> int:
        """Cost in millionths of a USD, rounded up: price per million * tokens."""
        return -int(-(self.prompt * prompt_tokens + self.completion * completion_tokens) // 1)
