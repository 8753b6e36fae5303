"""The policy plane's tables, parents before children (foreign keys)."""

from __future__ import annotations

from piccolo.table import Table

from inferia.filtration.api_keys.tables import ApiKey
from inferia.filtration.audit.tables import AuditLog
from inferia.filtration.guardrail_policies.tables import GuardrailEvent, GuardrailPolicyRow
from inferia.filtration.identity.tables import AuthSession, Organization, RefreshToken, User
from inferia.filtration.invitations.tables import Invitation
from inferia.filtration.knowledge_bases.tables import KnowledgeBase, KnowledgeDocument
from inferia.filtration.members.tables import Membership
from inferia.filtration.models.tables import ModelDeployment
from inferia.filtration.policies.tables import LimitPolicy
from inferia.filtration.roles.tables import Role
from inferia.filtration.templates.tables import PromptTemplate, PromptTemplateVersion
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
    KnowledgeBase,
    KnowledgeDocument,
    PromptTemplate,
    PromptTemplateVersion,
)
