"""AuditTrail: write audit records, and read them back for ``GET /audit/logs``.

Services do not call ``record`` themselves: ``Changes.apply`` (inferia/filtration/
changes.py) calls it INSIDE the transaction of the change it describes, so a change
and its record commit or roll back together. Records of refused actions (a failed
login) are a change of their own, since nothing else is committed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, Literal

from inferia.filtration.audit import store
from inferia.filtration.audit.context import AuditContext
from inferia.filtration.audit.redaction import redact
from inferia.filtration.audit.schemas import AuditPage, AuditQuery
from inferia.filtration.audit.tables import AuditLog

log = logging.getLogger(__name__)
Outcome = Literal["success", "failure"]


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
        await store.insert(
            AuditLog(
                organization=store.uuid_or_none(organization_id),
                actor=store.uuid_or_none(actor_id),
                action=action[:100],
                target=target[:255] if target else None,
                outcome=outcome,
                client_address=client_address[:64] if client_address else None,
                request_id=request_id[:128] if request_id else None,
                details=json.dumps(redact(details), default=str),
            )
        )
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
        return await store.search(query)
