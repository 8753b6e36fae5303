"""Deny-lists from policy: whole words/phrases (case-insensitive) and regexes.

Patterns are written by tenants and run inline on the event loop, so every cost they
can have is bounded (docs/guardrails.md):
- a policy holds at most ``MAX_PATTERNS`` patterns of at most ``MAX_PATTERN_CHARS``,
  and counted repetitions whose bounds multiply to at most ``MAX_REPEAT_PRODUCT``
  (compiling ``(a{1000}){1000}`` alone takes a second; nothing can interrupt it);
  anything else is refused (422) when the policy is written;
- one scan runs all patterns against one deadline, ``timeout_ms`` (at most
  ``MAX_TIMEOUT_MS``), on the ``regex`` module, which interrupts backtracking;
- one request's scans together draw on its ``ScanBudget``
  (``guardrails.pattern_budget_ms``).
A scan that runs out of time counts as a hit on the whole text (fail closed: an
unbounded pattern must not become a bypass).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence

import regex

from inferia.core.errors import ValidationError
from inferia.guardrails.budget import current_scan_budget
from inferia.guardrails.findings import Detection
from inferia.guardrails.scanner import BaseScanner, ScannerSetup
from inferia.guardrails.scanners.profanity import (
    lower_same_length,
    whole_words,
    word_pattern,
)

DEFAULT_TIMEOUT_MS = 20.0
MAX_TIMEOUT_MS = 100.0
DEFAULT_MAX_MATCH_CHARS = 256
MAX_MATCH_CHARS = 4096
MAX_PATTERNS = 32
MAX_PATTERN_CHARS = 256
MAX_REPEAT_PRODUCT = 1000
MAX_WORDS = 1000
MAX_WORD_CHARS = 100
# Findings one scan reports: enough to block or redact; a text of 200,000 one-letter
# matches must not cost a Python object each.
MAX_FINDINGS = 1000

_COUNTED = re.compile(r"\{\s*(\d+)\s*(?:,\s*(\d*)\s*)?\}")


class DenylistScanner(BaseScanner):
    name = "denylist"
    categories = frozenset({"word", "pattern", "pattern_timeout"})

    def __init__(
        self,
        words: Iterable[str] = (),
        patterns: Iterable[str] = (),
        *,
        timeout_ms: float = DEFAULT_TIMEOUT_MS,
        max_match_chars: int = DEFAULT_MAX_MATCH_CHARS,
    ) -> None:
        word_list = _checked_words([w for w in words if w.strip()])
        pattern_list = list(patterns)
        if len(pattern_list) > MAX_PATTERNS:
            raise ValidationError(f"at most {MAX_PATTERNS} deny-list patterns", param="patterns")
        if not 0 < timeout_ms <= MAX_TIMEOUT_MS:
            raise ValidationError(
                f"timeout_ms must be in (0, {MAX_TIMEOUT_MS:g}]", param="timeout_ms"
            )
        if not 1 <= max_match_chars <= MAX_MATCH_CHARS:
            raise ValidationError(
                f"max_match_chars must be in [1, {MAX_MATCH_CHARS}]", param="max_match_chars"
            )
        self._words = re.compile(word_pattern(word_list)) if word_list else None
        self._patterns = [compile_pattern(p) for p in pattern_list]
        self._timeout_s = timeout_ms / 1000
        longest_word = max((len(w) for w in word_list), default=0)
        # A regex's length is unknown: the operator states the longest match it needs.
        self.max_match_chars = max(3 * longest_word + 8, max_match_chars if self._patterns else 0)

    def scan(self, text: str) -> list[Detection]:
        found: list[Detection] = []
        if self._words is not None:
            lowered = lower_same_length(text)
            found += [Detection("word", s, e) for s, e in whole_words(self._words, lowered)]
        if self._patterns:
            found += self._scan_patterns(text)
        return found

    def _scan_patterns(self, text: str) -> list[Detection]:
        budget = current_scan_budget()
        allowed = self._timeout_s if budget is None else min(self._timeout_s, budget.remaining_s)
        started = time.perf_counter()
        deadline = started + allowed
        found: list[Detection] = []
        try:
            for pattern in self._patterns:
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise TimeoutError
                for match in pattern.finditer(text, timeout=left):
                    if match.end() > match.start():
                        found.append(Detection("pattern", match.start(), match.end()))
                        if len(found) >= MAX_FINDINGS:
                            return found
        except TimeoutError:
            found.append(Detection("pattern_timeout", 0, len(text)))
        finally:
            if budget is not None:
                budget.remaining_s -= time.perf_counter() - started
        return found


def _checked_words(words: Sequence[str]) -> Sequence[str]:
    if len(words) > MAX_WORDS or any(len(w) > MAX_WORD_CHARS for w in words):
        raise ValidationError(
            f"at most {MAX_WORDS} deny-list words of at most {MAX_WORD_CHARS} characters",
            param="words",
        )
    return words


def compile_pattern(pattern: str) -> regex.Pattern[str]:
    shown = pattern[:60]
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ValidationError(
            f"deny-list pattern {shown!r}... is longer than {MAX_PATTERN_CHARS} characters",
            param="patterns",
        )
    # Conservative (every counted repetition multiplied, nested or not): compile time
    # grows with the product of nested bounds and cannot be interrupted.
    product = 1
    for low, high in _COUNTED.findall(pattern):
        product *= max(int(low), int(high or 0), 1)
        if product > MAX_REPEAT_PRODUCT:
            raise ValidationError(
                f"deny-list pattern {shown!r}: counted repetitions multiply to more than "
                f"{MAX_REPEAT_PRODUCT}",
                param="patterns",
            )
    try:
        return regex.compile(pattern, regex.IGNORECASE | regex.V0)
    except regex.error as exc:
        raise ValidationError(
            f"invalid deny-list pattern {shown!r}: {exc}", param="patterns"
        ) from None


def create(setup: ScannerSetup) -> DenylistScanner:
    options = setup.options
    return DenylistScanner(
        options.get("words", ()),
        options.get("patterns", ()),
        timeout_ms=float(options.get("timeout_ms", DEFAULT_TIMEOUT_MS)),
        max_match_chars=int(options.get("max_match_chars", DEFAULT_MAX_MATCH_CHARS)),
    )
