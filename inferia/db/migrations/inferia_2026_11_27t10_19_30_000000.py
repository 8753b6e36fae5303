"""A model name is unique within its organisation (see the identity indexes' migration
for why this is raw SQL)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T10:19:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "model deployments unique name"
_INDEX = "model_deployments_organization_name_key"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="inferia", description=DESCRIPTION)

    async def create_index() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(
            f'CREATE UNIQUE INDEX {_INDEX} ON model_deployments ("organization", "name")'
        )

    async def drop_index() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(f"DROP INDEX IF EXISTS {_INDEX}")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
