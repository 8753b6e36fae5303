"""One way to change a definition: commit, audit in the same transaction, announce after.

Every mutating service of the policy plane goes through ``Changes.apply``::

    async with self._changes.apply(context) as change:
        record = await self._store.create(organization_id, data)
        change.audit("model.create", target=record.id, details=details(record))
        change.announce(MODEL_CHANGES_CHANNEL, record.id)

The audit records are written inside the transaction, so a change and its record commit
or roll back together. Change events go out only after the commit, so a process that
reloads on the event reads the committed state, and a rolled-back change announces
nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from inferia.db import Database
from inferia.filtration.audit import AuditContext, AuditTrail, Outcome
from inferia.state import StateBackend


@dataclass(slots=True)
class _AuditEntry:
    action: str
    target: str | None
    outcome: Outcome
    details: Mapping[str, Any] | None
    organization_id: str | None
    actor_id: str | None


@dataclass(slots=True)
class Change:
    """What one ``Changes.apply`` block records (audit) and announces (after commit)."""

    _audits: list[_AuditEntry] = field(default_factory=list)
    _events: list[tuple[str, bytes]] = field(default_factory=list)

    def audit(
        self,
        action: str,
        *,
        target: str | None = None,
        outcome: Outcome = "success",
        details: Mapping[str, Any] | None = None,
        organization_id: str | None = None,
        actor_id: str | None = None,
    ) -> None:
        """An audit record, written in the change's transaction. ``organization_id`` and
        ``actor_id`` default to the request's."""
        self._audits.append(
            _AuditEntry(action, target, outcome, details, organization_id, actor_id)
        )

    def announce(self, channel: str, payload: str | bytes) -> None:
        """A change event on the state backend's pub/sub ``channel``, sent after commit."""
        data = payload.encode() if isinstance(payload, str) else payload
        if (channel, data) not in self._events:
            self._events.append((channel, data))


class Changes:
    """Built once per process by the policy plane and handed to every mutating service."""

    def __init__(self, database: Database, audit: AuditTrail, state: StateBackend) -> None:
        self._database = database
        self._audit = audit
        self._state = state

    @property
    def trail(self) -> AuditTrail:
        return self._audit

    @asynccontextmanager
    async def apply(self, context: AuditContext) -> AsyncIterator[Change]:
        change = Change()
        async with self._database.transaction():
            yield change
            for entry in change._audits:
                await self._audit.record_as(
                    context,
                    entry.action,
                    target=entry.target,
                    outcome=entry.outcome,
                    details=entry.details,
                    organization_id=entry.organization_id,
                    actor_id=entry.actor_id,
                )
        for channel, payload in change._events:
            await self._state.publish(channel, payload)
