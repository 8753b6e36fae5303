"""Apply piccolo migrations from inside a running event loop.

piccolo's own runner (``piccolo migrations forwards``) is a CLI: it prints, exits
the process on failure and imports migration files by putting their folder on
``sys.path``. This runner imports them as modules of ``inferia.db.migrations``,
and applies every pending one, and records it, in ONE transaction that also
serialises concurrent runners:

- PostgreSQL: ``pg_advisory_xact_lock`` (DDL is transactional, so a failed
  migration leaves nothing behind);
- SQLite: ``BEGIN IMMEDIATE`` (one writer at a time; others wait up to the busy
  timeout).

A second runner waits for the first, then finds nothing pending.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import pkgutil
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any, cast

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.apps.migrations.tables import Migration
from piccolo.engine.base import Engine
from piccolo.table import Table

from inferia.core.errors import StorageError
from inferia.db.engine import Database
from inferia.db.registry import APP_NAME, MIGRATIONS_PACKAGE

log = logging.getLogger(__name__)

# Arbitrary constant naming Inferia's migration lock among PostgreSQL advisory locks.
_PG_MIGRATION_LOCK_KEY = 0x1F3E_1A00_0001


async def apply_migrations(db: Database) -> list[str]:
    """Apply pending migrations; return the ids applied (empty when up to date).

    Idempotent. ``db`` must be started (``await db.start()``).
    """
    if not db.started:
        raise StorageError("Database.start() must be awaited before applying migrations")
    db.bind_tables()
    modules = _migration_modules(db.engine)
    applied: list[str] = []
    async with db.transaction():
        if db.kind == "postgres":
            await db.engine.run_ddl(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK_KEY})")
        await Migration.create_table(if_not_exists=True)
        already = set(await Migration.get_migrations_which_ran(app_name=APP_NAME))
        for migration_id in sorted(set(modules) - already):
            await _run_one(migration_id, modules[migration_id])
            await Migration.insert(Migration(name=migration_id, app_name=APP_NAME))
            applied.append(migration_id)
    if applied:
        log.info("applied %d migration(s): %s", len(applied), ", ".join(applied))
    return applied


async def pending_migrations(db: Database) -> list[str]:
    """Ids of the migrations not applied yet (for ``inferia migrate --check``)."""
    db.bind_tables()
    modules = _migration_modules(db.engine)
    async with db.transaction():
        if not await Migration.table_exists():
            return sorted(modules)
        already = set(await Migration.get_migrations_which_ran(app_name=APP_NAME))
    return sorted(set(modules) - already)


async def _run_one(migration_id: str, module: ModuleType) -> None:
    forwards = cast(Callable[[], Awaitable[Any]], module.forwards)
    manager = await forwards()
    if not isinstance(manager, MigrationManager):
        raise StorageError(f"migration {migration_id}: forwards() returned no MigrationManager")
    # MigrationManager.run() print()s progress; keep stdout for the CLI's own output.
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        await manager.run()
    log.debug("migration %s: %s", migration_id, output.getvalue().strip())


def _migration_modules(engine: Engine[Any]) -> dict[str, ModuleType]:
    """Migration id -> module, for every module in inferia.db.migrations."""
    package = importlib.import_module(MIGRATIONS_PACKAGE)
    modules: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{MIGRATIONS_PACKAGE}.{info.name}")
        migration_id = getattr(module, "ID", None)
        if not isinstance(migration_id, str):
            continue
        if migration_id in modules:
            raise StorageError(f"two migrations share the id {migration_id}")
        _rebind_snapshot_tables(module, engine)
        modules[migration_id] = module
    return modules


def _rebind_snapshot_tables(module: ModuleType, engine: Engine[Any]) -> None:
    # Migration files declare stand-in table classes (foreign-key targets). piccolo
    # caches the engine on a table class the first time it is used, so after a
    # rebind (a second Database in one process: tests) they would keep the old one.
    for value in vars(module).values():
        if isinstance(value, type) and issubclass(value, Table) and value is not Table:
            value._meta.db = engine
