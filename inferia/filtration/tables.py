"""The policy plane's tables, parents before children (foreign keys)."""

from __future__ import annotations

from piccolo.table import Table

from inferia.filtration.audit.tables import AuditLog
from inferia.filtration.guardrail_policies.tables import GuardrailEvent, GuardrailPolicyRow
from inferia.filtration.identity.tables import (
    AuthSession,
    Invitation,
    Membership,
    Organization,
    RefreshToken,
    Role,
    User,
)
from inferia.filtration.keys.tables import ApiKey
from inferia.filtration.models.tables import ModelDeployment
from inferia.filtration.policies.tables import LimitPolicy
from inferia.filtration.usage.tables import InferenceLog, UsageRecord

TABLES: tuple[type[Table], ...] = (
    Organization,
    User,
    Role,
    Membership,
    ApiKey,
    AuthSession,
    RefreshToken,
    Invitation,
    AuditLog,
    LimitPolicy,
    UsageRecord,
    InferenceLog,
    GuardrailPolicyRow,
    GuardrailEvent,
    ModelDeployment,
)
