"""``inferia serve``: pre-flight (migrations, first start) then granian.

Pre-flight runs once in the parent process, before any worker starts, so migrations
and the first-start admin are never raced by workers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

import msgspec
from granian.constants import Interfaces, Loops
from granian.server import Server

from inferia.app import SETTINGS_ENV
from inferia.config import Settings
from inferia.core.errors import ConfigError
from inferia.db import Database, apply_migrations, pending_migrations
from inferia.filtration.identity.bootstrap import ensure_first_start
from inferia.filtration.identity.passwords import PasswordHasher

log = logging.getLogger(__name__)


def check_topology(settings: Settings) -> None:
    if settings.server.workers > 1 and not settings.state.url:
        raise ConfigError(
            f"--workers {settings.server.workers} needs a shared state backend: with the in-memory "
            "one each worker would keep its own rate-limit counters and caches, so limits would "
            "silently multiply. Set state.url (INFERIA_STATE__URL=redis://...) or use 1 worker."
        )


async def prepare_storage(settings: Settings, *, migrate: bool) -> None:
    """Migrate (or check migrations) and create the first admin on an empty database."""
    database = Database(settings.database, settings.data_path)
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
            PasswordHasher(),
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
        lines.append(f"  password: {generated_password}   (shown once; change it after login)")
    else:
        lines.append("  password: from INFERIA_ADMIN_PASSWORD")
    print("\n".join([*lines, ""]), file=sys.stderr, flush=True)


def serve(settings: Settings) -> None:
    check_topology(settings)
    if {"filtration", "orchestration"} & set(settings.planes):
        migrate = not settings.database.url or settings.database.migrate_on_start
        asyncio.run(prepare_storage(settings, migrate=migrate))
    os.environ[SETTINGS_ENV] = msgspec.json.encode(settings).decode()
    host, port = settings.server.host, settings.http_port()
    log.info("serving planes %s on http://%s:%d", ", ".join(settings.planes), host, port)
    Server(
        "inferia.app:serve_target",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=settings.server.workers,
        loop=Loops.uvloop,
        factory=True,
        log_access=settings.logging.access_log,
        workers_kill_timeout=max(1, round(settings.server.drain_timeout_s)),
    ).serve()
