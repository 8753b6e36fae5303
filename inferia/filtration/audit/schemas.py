"""What ``GET /audit/logs`` answers, and the search it runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

MAX_PAGE = 200


class AuditRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    organization_id: str | None
    actor_id: str | None
    action: str
    target: str | None
    outcome: str
    client_address: str | None
    request_id: str | None
    details: dict[str, Any]
    created_at: datetime


class AuditPage(msgspec.Struct, frozen=True, kw_only=True):
    data: list[AuditRecord]
    # Opaque; pass it back as ``cursor`` for the next (older) page. None on the last page.
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class AuditQuery:
    organization_id: str
    actor_id: str | None = None
    action: str | None = None
    target: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    cursor: int | None = None
    limit: int = 50
