"""Guardrail policies of an organisation: reads, and changes that are audited and announced.

Every change goes through ``Changes.apply``: the audit record commits with it, and
``GUARDRAIL_CHANGES_CHANNEL`` carries the organisation id after the commit so each
inference process drops its snapshot at once.
"""

from __future__ import annotations

from typing import Any

from inferia.contracts.guardrails import GUARDRAIL_CHANGES_CHANNEL
from inferia.filtration.audit import AuditContext
from inferia.filtration.changes import Changes
from inferia.filtration.guardrail_policies.schemas import (
    EffectivePolicy,
    EventFilter,
    EventView,
    GuardrailPolicyRecord,
    PolicyListing,
    ScannerInfo,
)
from inferia.filtration.guardrail_policies.store import GuardrailPolicyStore, recent_events
from inferia.guardrails.policy import GuardrailPolicy


class GuardrailPolicyService:
    def __init__(
        self, store: GuardrailPolicyStore, changes: Changes, platform_default: GuardrailPolicy
    ) -> None:
        self._store = store
        self._changes = changes
        # ``[guardrails]`` of inferia.toml: what an organisation without a policy gets.
        self._platform_default = platform_default

    async def list_for(self, organization_id: str) -> PolicyListing:
        records = await self._store.list(organization_id)
        return PolicyListing(data=records, platform_default=self._platform_default)

    def scanners(self) -> list[ScannerInfo]:
        return [ScannerInfo(name) for name in self._store.scanner_names]

    async def effective(self, organization_id: str, model: str) -> EffectivePolicy:
        policies = await self._store.load(organization_id)
        if model and model in policies.models:
            return EffectivePolicy(source="model", policy=policies.models[model])
        if policies.default is not None:
            return EffectivePolicy(source="organization", policy=policies.default)
        return EffectivePolicy(source="platform", policy=self._platform_default)

    async def events(self, organization_id: str, which: EventFilter) -> list[EventView]:
        return await recent_events(organization_id, which)

    async def get(self, organization_id: str, model: str) -> GuardrailPolicyRecord:
        return await self._store.get(organization_id, model)

    async def put(
        self, context: AuditContext, organization_id: str, model: str, policy: GuardrailPolicy
    ) -> GuardrailPolicyRecord:
        """Create or replace the policy of ``model`` ("*": the organisation's default)."""
        async with self._changes.apply(context) as change:
            record, created = await self._store.put(organization_id, model, policy)
            change.audit(
                "guardrails.create" if created else "guardrails.update",
                target=record.model,
                details=_details(record),
            )
            change.announce(GUARDRAIL_CHANGES_CHANNEL, organization_id)
        return record

    async def delete(self, context: AuditContext, organization_id: str, model: str) -> None:
        async with self._changes.apply(context) as change:
            record = await self._store.delete(organization_id, model)
            change.audit("guardrails.delete", target=record.model, details=_details(record))
            change.announce(GUARDRAIL_CHANGES_CHANNEL, organization_id)


def _details(record: GuardrailPolicyRecord) -> dict[str, Any]:
    # Scanner names and actions only: deny-list words may themselves be sensitive.
    return {
        "model": record.model,
        "input": [f"{e.scanner}:{e.action}" for e in record.policy.input],
        "output": [f"{e.scanner}:{e.action}" for e in record.policy.output],
    }
