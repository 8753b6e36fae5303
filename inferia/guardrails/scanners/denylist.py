"""Deny-lists from policy: whole words/phrases (case-insensitive) and regexes.

Operator regexes run on the ``regex`` module with a per-scan timeout, so a pattern
with catastrophic backtracking costs at most ``timeout_ms`` and then counts as a hit
on the whole text (fail closed: an unbounded pattern must not become a bypass).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import regex

from inferia.core.errors import ValidationError
from inferia.guardrails.findings import Detection
from inferia.guardrails.scanner import BaseScanner, ScannerSetup
from inferia.guardrails.scanners.profanity import (
    lower_same_length,
    whole_words,
    word_pattern,
)

DEFAULT_TIMEOUT_MS = 20.0
DEFAULT_MAX_MATCH_CHARS = 256


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
        word_list = [w for w in words if w.strip()]
        self._words = re.compile(word_pattern(word_list)) if word_list else None
        self._patterns = [compile_pattern(p) for p in patterns]
        self._timeout_s = timeout_ms / 1000
        longest_word = max((len(w) for w in word_list), default=0)
        # A regex's length is unknown: the operator states the longest match it needs.
        self.max_match_chars = max(3 * longest_word + 8, max_match_chars if self._patterns else 0)

    def scan(self, text: str) -> list[Detection]:
        found: list[Detection] = []
        if self._words is not None:
            lowered = lower_same_length(text)
            found += [Detection("word", s, e) for s, e in whole_words(self._words, lowered)]
        for pattern in self._patterns:
            try:
                found += [
                    Detection("pattern", m.start(), m.end())
                    for m in pattern.finditer(text, timeout=self._timeout_s)
                    if m.end() > m.start()
                ]
            except TimeoutError:
                found.append(Detection("pattern_timeout", 0, len(text)))
        return found


def compile_pattern(pattern: str) -> regex.Pattern[str]:
    try:
        return regex.compile(pattern, regex.IGNORECASE | regex.V0)
    except regex.error as exc:
        raise ValidationError(
            f"invalid deny-list pattern {pattern!r}: {exc}", param="patterns"
        ) from None


def create(setup: ScannerSetup) -> DenylistScanner:
    options = setup.options
    return DenylistScanner(
        options.get("words", ()),
        options.get("patterns", ()),
        timeout_ms=float(options.get("timeout_ms", DEFAULT_TIMEOUT_MS)),
        max_match_chars=int(options.get("max_match_chars", DEFAULT_MAX_MATCH_CHARS)),
    )
