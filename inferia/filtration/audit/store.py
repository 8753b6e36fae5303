"""Queries of the audit_logs table: append a row, and page through an organisation's."""

from __future__ import annotations

import json
import uuid
from typing import Any

from inferia.db.errors import wrap_errors
from inferia.filtration.audit.schemas import MAX_PAGE, AuditPage, AuditQuery, AuditRecord
from inferia.filtration.audit.tables import AuditLog


async def insert(row: AuditLog) -> None:
    async with wrap_errors():
        await row.save()


async def search(query: AuditQuery) -> AuditPage:
    limit = max(1, min(query.limit, MAX_PAGE))
    select = AuditLog.select().where(AuditLog.organization == query.organization_id)
    if query.actor_id is not None:
        actor = uuid_or_none(query.actor_id)
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


def uuid_or_none(value: str | None) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _record(row: dict[str, Any]) -> AuditRecord:
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
        created_at=row["created_at"],
    )
