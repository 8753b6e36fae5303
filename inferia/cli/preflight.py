"""Pre-flight of every command that opens the database: migrations and first start; and
of `inferia serve`: settings only a worker would otherwise check, after listening.

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
from inferia.config.loader import masked_url
from inferia.core.errors import ConfigError, InferiaError
from inferia.core.logging import configure_logging
from inferia.core.secrets import SECRETS_FILE
from inferia.db import Database, apply_migrations, pending_migrations
from inferia.db.engine import SQLITE_FILENAME
from inferia.filtration.identity.bootstrap import ensure_first_start, has_users
from inferia.filtration.identity.passwords import PasswordHasher
from inferia.tables import all_tables

log = logging.getLogger(__name__)


def describe_storage(settings: Settings) -> str:
    """Which installation a command uses: its data dir and database (password masked)."""
    database = (
        masked_url(settings.database.url)
        if settings.database.url
        else (f"SQLite {settings.data_path / SQLITE_FILENAME}")
    )
    return f"data dir {settings.data_path}, database {database}"


def require_installation(settings: Settings) -> None:
    """Refuse, before anything is written, to act on an installation that does not exist.

    Only ``serve`` and ``migrate`` create one: a command run without the server's data
    dir would otherwise make a second database and admin (SQLite) or new secrets, and
    print an API key the running server rejects.
    """
    data_path = settings.data_path
    missing = None
    if not settings.database.url and not (data_path / SQLITE_FILENAME).exists():
        missing = f"no database ({data_path / SQLITE_FILENAME})"
    elif _generates_secrets(settings) and not (data_path / SECRETS_FILE).exists():
        missing = f"no generated security keys ({data_path / SECRETS_FILE})"
    if missing:
        raise ConfigError(
            f"no Inferia installation here: {missing}. Use the server's data dir "
            "(--data-dir or INFERIA_DATA_DIR) and --config, or create one with "
            "`inferia serve` or `inferia migrate`"
        )


def _generates_secrets(settings: Settings) -> bool:
    security = settings.security
    return any(
        isinstance(getattr(security, name), str) and not getattr(security, name)
        for name in security.__struct_fields__
    )


def migrates_automatically(settings: Settings) -> bool:
    return not settings.database.url or settings.database.migrate_on_start


async def prepare_storage(
    settings: Settings, *, migrate: bool | None = None, create: bool = True
) -> list[str]:
    """Migrate (or check migrations) and, when ``create``, make the first admin on an
    empty database (else refuse one without users). The migrations applied."""
    applied: list[str] = []
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
        if not create:
            if not await has_users():
                raise ConfigError(
                    f"no Inferia installation in {describe_storage(settings)} (no users): "
                    "start `inferia serve` or run `inferia migrate` on it first"
                )
            return applied
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
    return applied


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


def check_settings(settings: Settings) -> None:
    """What a worker would otherwise find only once the port is listening: the
    ``[guardrails]`` policy compiles (every scanner exists, its options are valid)."""
    if "inference" in settings.planes:
        from inferia.guardrails import build_engine, platform_policy

        platform_policy(settings.guardrails, build_engine(settings.guardrails))
        for model in settings.models:
            # Not an error (a key-less local server is fine), but every call would
            # otherwise go out without the key the operator meant to give.
            if model.api_key_env and not os.environ.get(model.api_key_env):
                log.warning(
                    "model %r: api_key_env names %s, which is not set: calls go out "
                    "without an API key",
                    model.name,
                    model.api_key_env,
                )


def main() -> None:
    """``python -m inferia.cli.preflight``: what `inferia serve` runs before its workers."""
    settings = settings_from_env()
    configure_logging(settings.logging)
    try:
        check_settings(settings)
        if {"filtration", "orchestration"} & set(settings.planes):
            asyncio.run(prepare_storage(settings))
    except InferiaError as exc:
        print(f"inferia: error: {exc.message}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
