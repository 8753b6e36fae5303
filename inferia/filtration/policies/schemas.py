"""Request and response bodies of ``/management/policies``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from inferia.limits import LimitValues, Scope


class PolicyCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # Checked by the store, whose error lists the scopes.
    scope: str
    subject: str | None = None
    model: str | None = None
    # Checked by ``parse_limits``, whose errors name the limit ("limits.rpm").
    limits: dict[str, Any] = msgspec.field(default_factory=dict)
    log_bodies: bool | None = None


class PolicyUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    limits: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET
    log_bodies: bool | msgspec.UnsetType | None = msgspec.UNSET


class PolicyRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    organization_id: str
    scope: Scope
    subject: str
    model: str
    limits: LimitValues
    log_bodies: bool | None
    created_at: datetime
    updated_at: datetime
