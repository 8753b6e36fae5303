"""One guardrail policy per organisation and model.

A multi-column unique index, hand-written for both engines (see README.md): the
store replaces a policy in place, and this keeps two concurrent first writes from
leaving two rows.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T10:41:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "guardrail policies unique per organisation and model"

_NAME = "guardrail_policies_organization_model_key"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="inferia", description=DESCRIPTION)

    async def create_index() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(
            f'CREATE UNIQUE INDEX {_NAME} ON guardrail_policies ("organization", "model")'
        )

    async def drop_index() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(f"DROP INDEX IF EXISTS {_NAME}")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
