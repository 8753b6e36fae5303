"""The one list of Inferia's tables.

Add a new table class to ``table_classes()`` and generate a migration (see
``inferia/db/migrations/README.md``). Everything that needs "all the tables"
(binding them to the engine, piccolo's auto-migrations) reads this list.
"""

from __future__ import annotations

from pathlib import Path

from piccolo.table import Table

# piccolo's name for the app; stored in the migration table next to each migration id.
APP_NAME = "inferia"
MIGRATIONS_PACKAGE = "inferia.db.migrations"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The module piccolo imports (through the PICCOLO_CONF variable) to find DB and APP_REGISTRY.
PICCOLO_CONF_MODULE = "inferia.db.piccolo_conf"


def table_classes() -> tuple[type[Table], ...]:
    """Every Inferia table class, parents before children (foreign keys)."""
    # Imported here, not at module level: the planes' packages import inferia.db,
    # so a module-level import would be circular.
    from inferia.filtration.audit.tables import AuditLog
    from inferia.filtration.guardrails.tables import GuardrailEvent, GuardrailPolicyRow
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
    from inferia.filtration.policy.tables import LimitPolicy
    from inferia.filtration.usage.tables import InferenceLog, UsageRecord

    return (
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
