"""Unique ids for the hot path, without a syscall or an object per id.

``uuid.uuid4()`` reads the OS random source and builds a ``UUID`` object (~3 µs); a
request needs a few ids. ``IdSource`` draws 64 random bits once per process and counts
from there: ids stay unique across processes and restarts (the random half differs),
are valid UUIDs (version 8, RFC 9562's custom layout, so a ``UUID`` column takes them)
and cost a counter step and one string format.

They are not secrets: never use them where guessing one would matter.
"""

from __future__ import annotations

import itertools
import secrets

# Version 8 in the high half's version nibble; the RFC variant (0b10) in the low half.
_VERSION_8 = 0x8000
_VARIANT = 0x8000_0000_0000_0000
_COUNTER_MASK = (1 << 62) - 1


class IdSource:
    __slots__ = ("_counter", "_high", "_prefix")

    def __init__(self) -> None:
        high = (secrets.randbits(64) & ~0xF000) | _VERSION_8
        self._high = f"{high:016x}"
        self._prefix = f"{self._high[:8]}-{self._high[8:12]}-{self._high[12:16]}-"
        self._counter = itertools.count(secrets.randbits(40))

    def uuid(self) -> str:
        """A new UUID string, e.g. for a row's primary key."""
        low = f"{(next(self._counter) & _COUNTER_MASK) | _VARIANT:016x}"
        return f"{self._prefix}{low[:4]}-{low[4:]}"

    def short(self) -> str:
        """A new 24-hex-character id, e.g. a request id."""
        return f"{self._high}{next(self._counter) & 0xFFFF_FFFF:08x}"
