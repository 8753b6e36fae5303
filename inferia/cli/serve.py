"""``inferia serve``: pre-flight (migrations, first start) then granian.

Pre-flight runs once, before any worker starts, so migrations and the first-start
admin are never raced by workers. It runs in a child process: granian forks its
workers from this one, and every module imported here (the migration machinery, the
code formatter piccolo imports with it, ...) would sit in each worker's memory.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import msgspec
from granian.constants import Interfaces, Loops
from granian.server import Server

from inferia.config import SETTINGS_ENV, Settings
from inferia.core.errors import ConfigError

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
    os.environ[SETTINGS_ENV] = msgspec.json.encode(settings).decode()
    if {"filtration", "orchestration"} & set(settings.planes):
        # It reports its own errors (and the first-start credentials) on our terminal.
        done = subprocess.run([sys.executable, "-m", "inferia.cli.preflight"], check=False)
        if done.returncode:
            raise SystemExit(done.returncode)
    host, port = settings.server.host, settings.http_port()
    log.info("serving planes %s on http://%s:%d", ", ".join(settings.planes), host, port)
    Server(
        "inferia.app:serve_target",
        address=host,
        port=port,
        interface=Interfaces.ASGI,  # see inferia.core.http_entry
        websockets=False,
        workers=settings.server.workers,
        loop=Loops.uvloop,
        factory=True,
        log_access=settings.logging.access_log,
        workers_kill_timeout=max(1, round(settings.server.drain_timeout_s)),
    ).serve()
