"""The relational database: engine choice, tables registry, migrations."""

from inferia.db.engine import Database, DatabaseKind
from inferia.db.errors import wrap_errors
from inferia.db.migrate import apply_migrations, pending_migrations

__all__ = ["Database", "DatabaseKind", "apply_migrations", "pending_migrations", "wrap_errors"]
