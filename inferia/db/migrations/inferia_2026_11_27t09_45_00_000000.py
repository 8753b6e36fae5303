"""Unique indexes piccolo cannot declare on both engines.

piccolo creates a multi-column ``Unique`` constraint with ``ALTER TABLE ... ADD
CONSTRAINT``, which SQLite does not support; ``CREATE UNIQUE INDEX`` (partial
ones too) has the same syntax on SQLite and PostgreSQL. Hand-written: piccolo's
auto-migrations do not know these indexes exist and will not touch them.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T09:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "identity unique indexes"

_INDEXES = {
    # A role name is unique within its organisation...
    "roles_organization_name_key": 'ON roles ("organization", "name")',
    # ...and among built-in roles, whose organization is NULL (NULLs are
    # distinct in the index above).
    "roles_builtin_name_key": 'ON roles ("name") WHERE "organization" IS NULL',
    # One membership per user and organisation ("user" is reserved in PostgreSQL).
    "memberships_user_organization_key": 'ON memberships ("user", "organization")',
}


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="inferia", description=DESCRIPTION)

    async def create_indexes() -> None:
        engine = engine_finder()
        assert engine is not None
        for name, target in _INDEXES.items():
            await engine.run_ddl(f"CREATE UNIQUE INDEX {name} {target}")

    async def drop_indexes() -> None:
        engine = engine_finder()
        assert engine is not None
        for name in _INDEXES:
            await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
