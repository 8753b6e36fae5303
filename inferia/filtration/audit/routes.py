"""``GET /audit/logs``: the caller's organisation's audit trail, newest first."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, get
from litestar.params import Parameter

from inferia.core.errors import ValidationError
from inferia.filtration.access import Caller, requires
from inferia.filtration.audit.trail import MAX_PAGE, AuditPage, AuditQuery, AuditTrail


def audit_controller(trail: AuditTrail) -> type[Controller]:
    class AuditController(Controller):
        path = "/audit"
        tags = ["audit"]

        @get("/logs", guards=[requires("audit:read")])
        async def list_audit_logs(
            self,
            caller: Caller,
            actor: str | None = Parameter(default=None, max_length=64),
            action: str | None = Parameter(default=None, max_length=100),
            target: str | None = Parameter(default=None, max_length=255),
            since: datetime | None = None,
            until: datetime | None = None,
            cursor: str | None = Parameter(default=None, max_length=32),
            limit: int = Parameter(default=50, ge=1, le=MAX_PAGE),
        ) -> AuditPage:
            position = None
            if cursor is not None:
                if not cursor.isdigit():
                    raise ValidationError("invalid cursor", param="cursor")
                position = int(cursor)
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
