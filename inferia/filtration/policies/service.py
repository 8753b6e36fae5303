"""Limit policies of an organisation: reads, and changes that are audited and announced.

Every change goes through ``Changes.apply``: the audit record commits with it, and
``POLICY_CHANGES_CHANNEL`` carries the organisation id after the commit so each
inference process drops its cached snapshot of that organisation at once.
"""

from __future__ import annotations

from typing import Any

import msgspec

from inferia.contracts.policies import POLICY_CHANGES_CHANNEL
from inferia.filtration.audit import AuditContext
from inferia.filtration.changes import Change, Changes
from inferia.filtration.policies.schemas import PolicyCreate, PolicyRecord, PolicyUpdate
from inferia.filtration.policies.store import PolicyStore, parse_limits
from inferia.limits import LimitValues


class PolicyService:
    def __init__(self, store: PolicyStore, changes: Changes) -> None:
        self._store = store
        self._changes = changes

    async def list_for(self, organization_id: str) -> list[PolicyRecord]:
        return await self._store.list(organization_id)

    async def get(self, organization_id: str, policy_id: str) -> PolicyRecord:
        return await self._store.get(organization_id, policy_id)

    async def create(
        self, context: AuditContext, organization_id: str, data: PolicyCreate
    ) -> PolicyRecord:
        limits = parse_limits(data.limits)
        async with self._changes.apply(context) as change:
            return await self.add(
                change,
                organization_id,
                scope=data.scope,
                subject=data.subject,
                model=data.model or "*",
                limits=limits,
                log_bodies=data.log_bodies,
            )

    async def add(
        self,
        change: Change,
        organization_id: str,
        *,
        scope: str,
        subject: str | None,
        model: str,
        limits: LimitValues,
        log_bodies: bool | None = None,
    ) -> PolicyRecord:
        """``create``'s writes inside a change the caller opened (a new API key and its
        own limits commit together)."""
        record = await self._store.create(
            organization_id,
            scope=scope,
            subject=subject,
            model=model,
            limits=limits,
            log_bodies=log_bodies,
        )
        change.audit("policy.create", target=record.id, details=_details(record))
        change.announce(POLICY_CHANGES_CHANNEL, organization_id)
        return record

    async def update(
        self, context: AuditContext, organization_id: str, policy_id: str, data: PolicyUpdate
    ) -> PolicyRecord:
        changes: dict[str, Any] = {}
        if not isinstance(data.limits, msgspec.UnsetType):
            changes["limits"] = parse_limits(data.limits)
        if not isinstance(data.log_bodies, msgspec.UnsetType):
            changes["log_bodies"] = data.log_bodies
        async with self._changes.apply(context) as change:
            record = await self._store.update(organization_id, policy_id, changes)
            change.audit("policy.update", target=record.id, details=_details(record))
            change.announce(POLICY_CHANGES_CHANNEL, organization_id)
        return record

    async def delete(self, context: AuditContext, organization_id: str, policy_id: str) -> None:
        async with self._changes.apply(context) as change:
            record = await self._store.delete(organization_id, policy_id)
            change.audit("policy.delete", target=record.id, details=_details(record))
            change.announce(POLICY_CHANGES_CHANNEL, organization_id)


def _details(record: PolicyRecord) -> dict[str, Any]:
    return {
        "scope": record.scope,
        "subject": record.subject,
        "model": record.model,
        "limits": msgspec.to_builtins(record.limits),
    }
