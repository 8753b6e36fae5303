"""Unique indexes of the prompt-template tables (see inferia_2026_11_27t09_45_00_000000:
piccolo cannot declare multi-column unique constraints on both engines). Two concurrent
creates of one name, or adds of one version number, lose on these with a 409."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T23:33:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "prompt template unique indexes"

_INDEXES = {
    "prompt_templates_organization_name_key": 'ON prompt_templates ("organization", "name")',
    "prompt_template_versions_template_version_key": (
        'ON prompt_template_versions ("template", "version")'
    ),
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
