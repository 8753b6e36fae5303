"""One knowledge base per organisation and name.

A multi-column unique index, hand-written for both engines (see README.md): the store
checks the name first, and this keeps two concurrent creations from both succeeding.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T23:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "knowledge bases unique per organisation and name"

_NAME = "knowledge_bases_organization_name_key"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="inferia", description=DESCRIPTION)

    async def create_index() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(
            f'CREATE UNIQUE INDEX {_NAME} ON knowledge_bases ("organization", "name")'
        )

    async def drop_index() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(f"DROP INDEX IF EXISTS {_NAME}")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
