"""A per-request time budget for tenant-written patterns.

Deny-list regexes are written by tenants and run inline on the event loop (a stream is
scanned chunk by chunk, synchronously). Each scan is bounded by its own timeout; this
budget bounds their sum over one request, so however many scans a request causes (a
long stream, many messages), one tenant's patterns block the loop for at most
``guardrails.pattern_budget_ms`` per request. Past it, scans report a timeout at once
(fail closed) instead of running.

The budget lives in a context variable: the inference plane starts one per request
(one asyncio task), and scanners read it without any change to their interface.
Outside a request (no budget started) only the per-scan timeout applies.
"""

from __future__ import annotations

from contextvars import ContextVar


class ScanBudget:
    """Seconds of pattern matching one request may still spend."""

    __slots__ = ("remaining_s",)

    def __init__(self, seconds: float) -> None:
        self.remaining_s = seconds


_CURRENT: ContextVar[ScanBudget | None] = ContextVar("inferia_scan_budget", default=None)


def start_scan_budget(seconds: float) -> ScanBudget:
    """Give the current task (request) a fresh budget."""
    budget = ScanBudget(seconds)
    _CURRENT.set(budget)
    return budget


def current_scan_budget() -> ScanBudget | None:
    return _CURRENT.get()
