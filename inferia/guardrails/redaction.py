"""Redaction with typed, numbered placeholders: ``<EMAIL_1>``, ``<CREDIT_CARD_2>``.

One Redactor lives for one request, so the same value gets the same placeholder in
every message, in the input and in the output.
"""

from __future__ import annotations

from collections.abc import Iterable

from inferia.guardrails.findings import Finding


class Redactor:
    def __init__(self) -> None:
        self._placeholders: dict[tuple[str, str], str] = {}
        self._counts: dict[str, int] = {}

    def placeholder(self, category: str, value: str) -> str:
        key = (category, value)
        existing = self._placeholders.get(key)
        if existing is not None:
            return existing
        label = category.upper()
        number = self._counts.get(label, 0) + 1
        self._counts[label] = number
        placeholder = f"<{label}_{number}>"
        self._placeholders[key] = placeholder
        return placeholder

    def apply(self, text: str, findings: Iterable[Finding]) -> str:
        """``text`` with the spans of redacting findings replaced; overlapping spans
        merge, and the merged span takes the category of its first finding."""
        spans = sorted(
            ((f.start, f.end, f.category) for f in findings if f.action == "redact"),
            key=lambda span: (span[0], -span[1]),
        )
        if not spans:
            return text
        merged: list[tuple[int, int, str]] = []
        for start, end, category in spans:
            if merged and start < merged[-1][1]:
                first_start, first_end, first_category = merged[-1]
                merged[-1] = (first_start, max(first_end, end), first_category)
            else:
                merged.append((start, end, category))
        pieces: list[str] = []
        position = 0
        for start, end, category in merged:
            pieces.append(text[position:start])
            pieces.append(self.placeholder(category, text[start:end]))
            position = end
        pieces.append(text[position:])
        return "".join(pieces)
