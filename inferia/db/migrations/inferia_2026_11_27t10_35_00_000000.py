"""One limit policy per (organisation, scope, subject, model), enforced by the database.

Hand-written like ``inferia_2026_11_27t09_45_00_000000``: a multi-column unique index
piccolo cannot declare on both engines. The store checks first for a clear 409; this
index makes two concurrent creates unable to both succeed.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T10:35:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "limit policy unique index"

_NAME = "limit_policies_target_key"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="inferia", description=DESCRIPTION)

    async def create_index() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(
            f'CREATE UNIQUE INDEX {_NAME} ON limit_policies ("organization", "scope", '
            '"subject", "model")'
        )

    async def drop_index() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(f"DROP INDEX IF EXISTS {_NAME}")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
