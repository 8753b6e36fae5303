"""What every resource's ``schemas.py`` shares: the request body base, the list page,
and the PATCH helper.

Request bodies refuse unknown fields and bound every string, so a malformed or
oversized body is a 4xx before any work is done. PATCH bodies use ``msgspec.UNSET``
so "not sent" differs from "set to null" (``expires_at: null`` removes an expiry).
"""

from __future__ import annotations

from typing import Generic, TypeVar

import msgspec
from msgspec import UNSET

T = TypeVar("T")


class Body(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The base of every request body."""


class Page(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    data: list[T]


def provided(**fields: object) -> dict[str, object]:
    """The fields of a PATCH body that were actually sent."""
    return {name: value for name, value in fields.items() if value is not UNSET}
