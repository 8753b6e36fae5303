"""Pre-flight of every command that opens the database: migrations and first start.

The embedded SQLite default needs no setup, so it is migrated by whichever command
opens it first (``inferia serve``, ``inferia keys create``, ...). PostgreSQL is
migrated by ``inferia migrate`` (or ``database.migrate_on_start``); other commands
refuse to run against pending migrations.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

from inferia.config import Settings, settings_from_env
from inferia.core.errors import ConfigError, InferiaError
from inferia.core.logging import configure_logging
from inferia.db import Database, apply_migrations, pending_migrations
from inferia.filtration.identity.bootstrap import ensure_first_start
from inferia.filtration.identity.passwords import PasswordHasher
from inferia.tables import all_tables

log = logging.getLogger(__name__)


def migrates_automatically(settings: Settings) -> bool:
    return not settings.database.url or settings.database.migrate_on_start


async def prepare_storage(settings: Settings, *, migrate: bool | None = None) -> None:
    """Migrate (or check migrations) and create the first admin on an empty database."""
    if migrate is None:
        migrate = migrates_automatically(settings)
    database = Database(settings.database, settings.data_path, all_tables())
    await database.start()
    try:
        if migrate:
            applied = await apply_migrations(database)
            if applied:
                log.info("applied %d migration(s)", len(applied))
        else:
            pending = await pending_migrations(database)
            if pending:
                raise ConfigError(
                    f"the database has {len(pending)} pending migration(s): run `inferia migrate` "
                    "(or set database.migrate_on_start = true)"
                )
        result = await ensure_first_start(
            database,
            PasswordHasher.from_settings(settings.auth),
            os.environ.get("INFERIA_ADMIN_EMAIL", "admin@localhost"),
            os.environ.get("INFERIA_ADMIN_PASSWORD") or None,
        )
    finally:
        await database.close()
    if result is not None:
        _announce_first_admin(result.email, result.generated_password)


def _announce_first_admin(email: str, generated_password: str | None) -> None:
    lines = [
        "",
        "Inferia first start: created organization 'default' and admin user",
        f"  email:    {email}",
    ]
    if generated_password:
        lines.append(f"  password: {generated_password}   (shown once)")
    else:
        lines.append("  password: from INFERIA_ADMIN_PASSWORD")
    lines += [
        'Change it: POST /auth/password {"current_password", "new_password"} once logged in;',
        f"locked out: inferia admin reset-password {email}  (asks for the new one)",
    ]
    print("\n".join([*lines, ""]), file=sys.stderr, flush=True)


def main() -> None:
    """``python -m inferia.cli.preflight``: what `inferia serve` runs before its workers."""
    settings = settings_from_env()
    configure_logging(settings.logging)
    try:
        asyncio.run(prepare_storage(settings))
    except InferiaError as exc:
        print(f"inferia: error: {exc.message}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
