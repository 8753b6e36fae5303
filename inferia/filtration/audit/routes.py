"""``GET /audit/logs``: the caller's organisation's audit trail, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter

from inferia.core.errors import ValidationError
from inferia.filtration.access import Caller, requires
from inferia.filtration.audit.schemas import MAX_PAGE, AuditPage, AuditQuery
from inferia.filtration.audit.service import AuditTrail


def audit_controller(trail: AuditTrail) -> type[Controller]:
    class AuditController(Controller):
        path = "/audit"
        tags = ["audit"]

        @get("/logs", guards=[requires("audit:read")])
        async def list_audit_logs(
            self,
            caller: NamedDependency[Caller],
            actor: Annotated[str | None, QueryParameter(max_length=64)] = None,
            action: Annotated[str | None, QueryParameter(max_length=100)] = None,
            target: Annotated[str | None, QueryParameter(max_length=255)] = None,
            since: FromQuery[datetime | None] = None,
            until: FromQuery[datetime | None] = None,
            cursor: Annotated[str | None, QueryParameter(max_length=32)] = None,
            limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 50,
        ) -> AuditPage:
            position = None if cursor is None else _position(cursor)
            return await trail.search(
                AuditQuery(
                    organization_id=caller.organization_id,
                    actor_id=actor,
                    action=action,
                    target=target,
                    since=since,
                    until=until,
                    cursor=position,
                    limit=limit,
                )
            )

    return AuditController


# Record ids are 64-bit: a larger number is no position (and overflows the database).
_MAX_POSITION = 2**63 - 1


def _position(cursor: str) -> int:
    """The record id an opaque ``next_cursor`` stands for."""
    if not (cursor.isascii() and cursor.isdigit()) or int(cursor) > _MAX_POSITION:
        raise ValidationError("invalid cursor", param="cursor")
    return int(cursor)
