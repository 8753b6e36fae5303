"""Who did it, from where: the part of an audit record that comes from the request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection


@dataclass(frozen=True, slots=True)
class AuditContext:
    actor_id: str | None
    organization_id: str | None
    client_address: str | None
    request_id: str | None

    @classmethod
    def of(
        cls,
        connection: ASGIConnection[Any, Any, Any, Any],
        *,
        actor_id: str | None = None,
        organization_id: str | None = None,
    ) -> AuditContext:
        return cls(
            actor_id=actor_id,
            organization_id=organization_id,
            client_address=connection.client.host if connection.client else None,
            request_id=connection.scope.get("state", {}).get("request_id"),
        )

    @classmethod
    def operator(cls, organization_id: str | None = None) -> AuditContext:
        """An action taken with the ``inferia`` CLI on the server itself."""
        return cls(
            actor_id=None, organization_id=organization_id, client_address="cli", request_id=None
        )
