"""A set of non-overlapping spans with O(log n) overlap checks.

Scanners use it to keep a later, less specific pattern from reporting inside an
earlier one's match; a list scan would make a text with many findings quadratic.
"""

from __future__ import annotations

from bisect import bisect_right


class SpanSet:
    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []

    def overlaps(self, start: int, end: int) -> bool:
        index = bisect_right(self._starts, start)
        # The span starting at or before `start`, and the one after it.
        if index and self._ends[index - 1] > start:
            return True
        return index < len(self._starts) and self._starts[index] < end

    def add(self, start: int, end: int) -> bool:
        """Add the span unless it overlaps one already there; True when added."""
        if self.overlaps(start, end):
            return False
        index = bisect_right(self._starts, start)
        self._starts.insert(index, start)
        self._ends.insert(index, end)
        return True
