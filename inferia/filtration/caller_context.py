"""The audit context of a management request: who (the caller) and from where."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency

from inferia.filtration.access import Caller
from inferia.filtration.audit import AuditContext


def caller_context(
    request: Request[Any, Any, Any], caller: NamedDependency[Caller]
) -> AuditContext:
    """A Litestar dependency (``context``) of the definition routes."""
    return AuditContext.of(request, actor_id=caller.user_id, organization_id=caller.organization_id)
