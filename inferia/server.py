"""``inferia serve``: pre-flight (migrations, first start) then granian.

Pre-flight runs once in the parent process, before any worker starts, so migrations
and the first-start admin are never raced by workers.
"""

from __future__ import annotations

import asyncio
import logging
import os

import msgspec
from granian.constants import Interfaces, Loops
from granian.server import Server

from inferia.app import SETTINGS_ENV
from inferia.config import Settings
from inferia.core.errors import ConfigError
from inferia.preflight import prepare_storage

log = logging.getLogger(__name__)


def check_topology(settings: Settings) -> None:
    if settings.server.workers > 1 and not settings.state.url:
        raise ConfigError(
            f"--workers {settings.server.workers} needs a shared state backend: with the in-memory "
            "one each worker would keep its own rate-limit counters and caches, so limits would "
            "silently multiply. Set state.url (INFERIA_STATE__URL=redis://...) or use 1 worker."
        )


def serve(settings: Settings) -> None:
    check_topology(settings)
    if {"filtration", "orchestration"} & set(settings.planes):
        asyncio.run(prepare_storage(settings))
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
