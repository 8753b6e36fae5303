"""Incremental scanning of a streamed text over a sliding window.

A ``StreamWindow`` takes the text of one stream channel (a choice's content, or one
tool call's arguments) piece by piece. It holds back only the trailing characters that
could still grow into a match (each scanner's ``hold_back``, at most its
``max_match_chars``), scans the rest, and releases it redacted. A match split across
chunks is therefore seen whole. Nothing is scanned while everything must be held,
so a token that only extends a word costs one short tail check.
"""

from __future__ import annotations

from collections.abc import Callable

from inferia.guardrails.engine import RuleSet
from inferia.guardrails.findings import Finding
from inferia.guardrails.redaction import Redactor


class BlockedText(Exception):
    """A ``block`` finding: the stream must end here."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(f"{finding.scanner}: {finding.category}")
        self.finding = finding


class StreamWindow:
    def __init__(
        self, rules: RuleSet, redactor: Redactor, record: Callable[[Finding], None]
    ) -> None:
        self._rules = rules
        self._redactor = redactor
        self._record = record
        self._buffer = ""

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def push(self, text: str) -> str:
        """Add streamed text; return what may be sent now (possibly ""). Raises
        BlockedText when released text holds a ``block`` finding."""
        buffer = self._buffer + text
        hold = self._rules.hold_back(buffer)
        if hold >= len(buffer):
            self._buffer = buffer
            return ""
        return self._release(buffer, len(buffer) - hold)

    def flush(self) -> str:
        """The end of the stream: release everything."""
        buffer, self._buffer = self._buffer, ""
        return self._release(buffer, len(buffer)) if buffer else ""

    def _release(self, buffer: str, cut: int) -> str:
        findings = self._rules.scan_inline(buffer)
        if not findings:  # the usual case: release the text as it is
            self._buffer = buffer[cut:]
            return buffer[:cut]
        cut = _settle_cut(findings, cut, len(buffer))
        released = [f for f in findings if f.start < cut]
        self._buffer = buffer[cut:]
        for finding in released:
            if finding.action == "block":
                raise BlockedText(finding)
        for finding in released:
            self._record(finding)
        return self._redactor.apply(buffer[:cut], released)


def _settle_cut(findings: list[Finding], cut: int, length: int) -> int:
    """Move the cut so that no finding is split by it. A finding that crosses the cut
    and ends before the buffer's end is final (its pattern already stopped): release
    it whole. One that reaches the end may still grow: hold it from its start."""
    for _ in range(len(findings) + 1):
        moved = False
        for finding in findings:
            if finding.start < cut < finding.end:
                final = finding.end < length or finding.start == 0
                cut = finding.end if final else finding.start
                moved = True
        if not moved:
            break
    return cut
