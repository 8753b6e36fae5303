"""One way to change orchestration state: commit, audit in the same transaction,
announce after the commit (the orchestration twin of the policy plane's ``Changes``).

    async with self._changes.apply(context) as change:
        pool = await self._store.create(...)
        change.audit("pool.create", target=pool.id, details={...})
        change.announce(DEPLOYMENT_CHANGES_CHANNEL, deployment_id)

The audit goes to this plane's own ``orchestration_audit`` table (docs/orchestration.md
says why). Change events are sent after the commit, so whoever reloads on them reads
the committed state.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from litestar.connection import ASGIConnection

from inferia.contracts.access import VerifiedCaller
from inferia.db import Database, wrap_errors
from inferia.orchestration.audit_tables import OrchestrationAudit
from inferia.state import StateBackend

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ActionContext:
    """Who did it, from where. ``actor_id`` None: the reconciler."""

    organization_id: str
    actor_id: str | None
    client_address: str | None = None
    request_id: str | None = None

    @classmethod
    def of(
        cls, connection: ASGIConnection[Any, Any, Any, Any], caller: VerifiedCaller
    ) -> ActionContext:
        return cls(
            organization_id=caller.organization_id,
            actor_id=caller.user_id,
            client_address=connection.client.host if connection.client else None,
            request_id=connection.scope.get("state", {}).get("request_id"),
        )

    @property
    def actor(self) -> str:
        """What a deployment event names as its actor."""
        return self.actor_id or "reconciler"


@dataclass(slots=True)
class Change:
    _audits: list[tuple[str, str | None, Mapping[str, Any]]] = field(default_factory=list)
    _events: list[tuple[str, bytes]] = field(default_factory=list)

    def audit(
        self, action: str, *, target: str | None = None, details: Mapping[str, Any] | None = None
    ) -> None:
        self._audits.append((action, target, details or {}))

    def announce(self, channel: str, payload: str) -> None:
        event = (channel, payload.encode())
        if event not in self._events:
            self._events.append(event)


class Changes:
    def __init__(self, database: Database, state: StateBackend) -> None:
        self._database = database
        self._state = state

    @asynccontextmanager
    async def apply(self, context: ActionContext) -> AsyncIterator[Change]:
        change = Change()
        async with self._database.transaction():
            yield change
            if context.actor_id is not None:  # users' actions; the reconciler's are events
                for action, target, details in change._audits:
                    await _record(context, action, target, details)
        for channel, payload in change._events:
            try:
                await self._state.publish(channel, payload)
            except Exception as exc:
                # Committed already; the subscribers' periodic refresh catches up.
                log.warning("could not announce %s: %s", channel, exc)


async def _record(
    context: ActionContext, action: str, target: str | None, details: Mapping[str, Any]
) -> None:
    async with wrap_errors():
        await OrchestrationAudit(
            organization=context.organization_id,
            actor=context.actor_id,
            action=action,
            target=target,
            client_address=(context.client_address or "")[:64] or None,
            request_id=(context.request_id or "")[:128] or None,
            details=json.dumps(dict(details), default=str),
        ).save()
    log.info(
        "audit %s org=%s actor=%s target=%s",
        action,
        context.organization_id,
        context.actor_id,
        target,
    )
