"""The audit log: every mutating management, admin and auth action leaves a record."""

from inferia.filtration.audit.context import AuditContext
from inferia.filtration.audit.tables import AuditLog
from inferia.filtration.audit.trail import AuditPage, AuditQuery, AuditRecord, AuditTrail, Outcome

__all__ = [
    "AuditContext",
    "AuditLog",
    "AuditPage",
    "AuditQuery",
    "AuditRecord",
    "AuditTrail",
    "Outcome",
]
