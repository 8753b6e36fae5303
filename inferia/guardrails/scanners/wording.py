"""Shared helpers of the word-based scanners (injection, profanity, deny-lists)."""

from __future__ import annotations

# Same-length leetspeak folding, so offsets stay valid: "1gn0re" -> "ignore".
LEET = str.maketrans("013457$@", "oieastsa")


def fold_leet(text: str) -> str:
    return text.translate(LEET)
