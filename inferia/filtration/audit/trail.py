"""AuditTrail: write audit records, and read them back for ``GET /audit/logs``.

``record`` is called INSIDE the transaction of the change it describes, so a change
and its record commit or roll back together. Records of refused actions (a failed
login) are written on their own, since nothing else is committed.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import msgspec

from inferia.db.errors import wrap_errors
from inferia.filtration.audit.context import AuditContext
from inferia.filtration.audit.redaction import redact
from inferia.filtration.audit.tables import AuditLog

log = logging.getLogger(__name__)
Outcome = Literal["success", "failure"]
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


class AuditTrail:
    async def record(
        self,
        *,
        action: str,
        organization_id: str | None,
        actor_id: str | None,
        target: str | None,
        outcome: Outcome,
        client_address: str | None,
        request_id: str | None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        row = AuditLog(
            organization=_uuid_or_none(organization_id),
            actor=_uuid_or_none(actor_id),
            action=action[:100],
            target=target[:255] if target else None,
            outcome=outcome,
            client_address=client_address[:64] if client_address else None,
            request_id=request_id[:128] if request_id else None,
            details=json.dumps(redact(details), default=str),
        )
        async with wrap_errors():
            await row.save()
        log.info(
            "audit %s %s org=%s actor=%s target=%s",
            action,
            outcome,
            organization_id,
            actor_id,
            target,
        )

    async def record_as(
        self,
        context: AuditContext,
        action: str,
        *,
        target: str | None = None,
        outcome: Outcome = "success",
        details: Mapping[str, Any] | None = None,
        organization_id: str | None = None,
        actor_id: str | None = None,
    ) -> None:
        """``record`` with the who/where taken from a request's ``AuditContext``."""
        await self.record(
            action=action,
            organization_id=organization_id or context.organization_id,
            actor_id=actor_id or context.actor_id,
            target=target,
            outcome=outcome,
            client_address=context.client_address,
            request_id=context.request_id,
            details=details,
        )

    async def search(self, query: AuditQuery) -> AuditPage:
        limit = max(1, min(query.limit, MAX_PAGE))
        select = AuditLog.select().where(AuditLog.organization == query.organization_id)
        if query.actor_id is not None:
            actor = _uuid_or_none(query.actor_id)
            if actor is None:
                return AuditPage(data=[], next_cursor=None)
            select = select.where(AuditLog.actor == actor)
        if query.action is not None:
            # "api_key.*" matches every api_key action.
            if query.action.endswith("*"):
                prefix = query.action[:-1].replace("%", "")
                select = select.where(AuditLog.action.like(f"{prefix}%"))
            else:
                select = select.where(AuditLog.action == query.action)
        if query.target is not None:
            select = select.where(AuditLog.target == query.target)
        if query.since is not None:
            select = select.where(AuditLog.created_at >= query.since)
        if query.until is not None:
            select = select.where(AuditLog.created_at < query.until)
        if query.cursor is not None:
            select = select.where(AuditLog.id < query.cursor)
        async with wrap_errors():
            rows = await select.order_by(AuditLog.id, ascending=False).limit(limit + 1)
        records = [_record(row) for row in rows[:limit]]
        next_cursor = str(records[-1].id) if len(rows) > limit else None
        return AuditPage(data=records, next_cursor=next_cursor)


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _record(row: dict[str, Any]) -> AuditRecord:
    created: datetime = row["created_at"]
    return AuditRecord(
        id=int(row["id"]),
        organization_id=str(row["organization"]) if row["organization"] else None,
        actor_id=str(row["actor"]) if row["actor"] else None,
        action=row["action"],
        target=row["target"],
        outcome=row["outcome"],
        client_address=row["client_address"],
        request_id=row["request_id"],
        details=json.loads(row["details"] or "{}"),
        created_at=created,
    )
