"""The audit log: every mutating management, admin and auth action leaves a record."""

from inferia.filtration.audit.context import AuditContext
from inferia.filtration.audit.schemas import AuditPage, AuditQuery, AuditRecord
from inferia.filtration.audit.service import AuditTrail, Outcome
from inferia.filtration.audit.tables import AuditLog

__all__ = [
    "AuditContext",
    "AuditLog",
    "AuditPage",
    "AuditQuery",
    "AuditRecord",
    "AuditTrail",
    "Outcome",
]
