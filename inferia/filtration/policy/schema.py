"""What the policy API shows."""

from __future__ import annotations

from datetime import datetime

import msgspec

from inferia.limits import LimitValues, Scope


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
