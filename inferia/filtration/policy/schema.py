"""What the policy API shows and what the policy port carries between planes."""

from __future__ import annotations

from datetime import datetime

import msgspec

from inferia.filtration.limits import LimitValues, Scope

# Pub/sub channel on which policy changes are announced; the payload is the organisation id.
POLICY_CHANGES_CHANNEL = "inferia:policies:changed"
# GET /internal/policies/{organization_id} -> OrgPolicies (split mode).
INTERNAL_POLICIES_PATH = "/internal/policies"


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
