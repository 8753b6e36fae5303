"""Ids in paths: a malformed one is simply not found (never a 500 from the driver)."""

from __future__ import annotations

import uuid

from inferia.core.errors import NotFoundError


def parse_id(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFoundError(f"{what} {value} not found") from None
