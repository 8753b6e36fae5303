"""Profanity and abuse: an English word list matched on whole words.

Leetspeak digits and symbols are folded first ("sh1t"), and common inflections are
accepted. A word list knows no context: it flags quotes, names and the Scunthorpe
problem is avoided only by matching whole words. Extend it with ``words`` in the
policy entry; use the detoxify plugin for a classifier.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from inferia.guardrails.findings import Detection
from inferia.guardrails.scanner import BaseScanner, ScannerSetup
from inferia.guardrails.scanners.wording import fold_leet
from inferia.guardrails.spans import SpanSet

PROFANITY = (
    "fuck", "fucker", "fucking", "motherfucker", "shit", "shitty", "bullshit", "bitch",
    "bastard", "asshole", "arsehole", "dickhead", "cunt", "wanker", "twat", "prick",
    "douchebag", "jackass", "piss", "pissed", "bollocks", "crap", "damn", "goddamn",
    "slut", "whore", "cock", "dick", "pussy",
)  # fmt: skip
ABUSE = (
    "idiot", "moron", "imbecile", "retard", "retarded", "loser", "scumbag", "dumbass",
    "kill yourself", "kys", "go die", "i will kill you", "i hope you die",
    "nigger", "nigga", "faggot", "fag", "kike", "spic", "chink", "tranny",
)  # fmt: skip
_SUFFIX = r"(?:s|es|ed|er|ers|ing|y)?"


def word_pattern(words: Iterable[str]) -> str:
    """One alternation of lower-case words (longest first, so "motherfucker" wins over
    "fucker"); a space in a phrase matches 1-3 separators. Word boundaries are checked
    by ``whole_words``: a leading lookbehind would defeat the regex engine's fast scan."""
    ordered = sorted({w.strip().lower() for w in words if w.strip()}, key=len, reverse=True)
    alternatives = "|".join(re.escape(w).replace(r"\ ", r"[\s_.-]{1,3}") for w in ordered)
    return rf"(?:{alternatives}){_SUFFIX}(?!\w)"


def whole_words(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for m in pattern.finditer(text):
        start = m.start()
        if start and (text[start - 1].isalnum() or text[start - 1] == "_"):
            continue
        spans.append((start, m.end()))
    return spans


def lower_same_length(text: str) -> str:
    lowered = text.lower()
    if len(lowered) != len(text):  # U+0130 and a few others lower-case to two characters
        lowered = "".join(c.lower()[:1] or c for c in text)
    return lowered


class ProfanityScanner(BaseScanner):
    name = "profanity"

    def __init__(self, extra_words: Iterable[str] = ()) -> None:
        extra = list(extra_words)
        self._profanity = re.compile(word_pattern([*PROFANITY, *extra]))
        self._abuse = re.compile(word_pattern(ABUSE))
        self.categories = frozenset({"profanity", "abuse"})
        longest = max(len(w) for w in (*PROFANITY, *ABUSE, *extra))
        self.max_match_chars = 3 * longest + 8

    def scan(self, text: str) -> list[Detection]:
        folded = lower_same_length(fold_leet(text))
        taken = SpanSet()
        found: list[Detection] = []
        for category, pattern in (("abuse", self._abuse), ("profanity", self._profanity)):
            for start, end in whole_words(pattern, folded):
                if taken.add(start, end):
                    found.append(Detection(category, start, end))
        return found


def create(setup: ScannerSetup) -> ProfanityScanner:
    return ProfanityScanner(setup.options.get("words", ()))
