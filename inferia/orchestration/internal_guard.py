"""The internal service credential on this plane's ``/internal/*`` routes (split mode)."""

from __future__ import annotations

from typing import Any

from inferia.contracts.principals import INTERNAL_TOKEN_HEADER
from inferia.core import internal_guard


def internal_token_guard(expected: str) -> Any:
    return internal_guard.internal_token_guard(expected, INTERNAL_TOKEN_HEADER)
