"""``inferia serve``: pre-flight (migrations, first start) then granian.

Pre-flight runs once, before any worker starts, so migrations and the first-start
admin are never raced by workers. It runs in a child process: granian forks its
workers from this one, and every module imported here (the migration machinery, the
code formatter piccolo imports with it, ...) would sit in each worker's memory.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys

import msgspec
from granian.constants import Interfaces, Loops
from granian.http import HTTP1Settings
from granian.server import Server

from inferia.config import SETTINGS_ENV, Settings
from inferia.core.errors import ConfigError
from inferia.core.logging import granian_log_config

log = logging.getLogger(__name__)


def check_topology(settings: Settings) -> None:
    port = settings.http_port()
    if "orchestration" in settings.planes and settings.server.grpc_port == port:
        raise ConfigError(
            f"server.grpc_port and the HTTP port are both {port}: the orchestration plane's "
            "gRPC server needs a port of its own (set server.grpc_port, or --port)",
            param="server.grpc_port",
        )
    if settings.server.workers > 1 and not settings.state.url:
        raise ConfigError(
            f"--workers {settings.server.workers} needs a shared state backend: with the in-memory "
            "one each worker would keep its own rate-limit counters and caches, so limits would "
            "silently multiply. Set state.url (INFERIA_STATE__URL=redis://...) or use 1 worker."
        )


def reserve_port(host: str, port: int) -> socket.socket:
    """Stop start-up if anything listens on ``host:port``; return a guard socket that
    keeps later servers out while this one runs.

    granian's workers bind with SO_REUSEPORT, which lets a second server bind the same
    port and silently take part of the traffic (with limits and caches of its own). A
    bind without it fails while anything listens there, so it is the probe. The guard
    is bound with SO_REUSEPORT but never listens: it receives no connections, lets this
    server's workers bind beside it, and makes a later server's probe fail even before
    the workers are up. Keep it open for the life of the server.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    probe = socket.socket(family, socket.SOCK_STREAM)
    try:
        # SO_REUSEADDR: a port still in TIME_WAIT after a restart is not "busy".
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}. Another process "
            "(another inferia serve?) is using it: stop it or choose another port "
            "(--port, or server.port in inferia.toml).",
            param="server.port",
        ) from None
    finally:
        probe.close()
    guard = socket.socket(family, socket.SOCK_STREAM)
    guard.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    guard.bind((host, port))
    return guard


def serve(settings: Settings) -> None:
    check_topology(settings)
    host, port = settings.server.host, settings.http_port()
    guard = reserve_port(host, port)
    os.environ[SETTINGS_ENV] = msgspec.json.encode(settings).decode()
    # Settings checks, migrations, first start: in a child, so what it imports stays out
    # of the workers. It reports its own errors (and the first-start credentials) here.
    done = subprocess.run([sys.executable, "-m", "inferia.cli.preflight"], check=False)
    if done.returncode:
        raise SystemExit(done.returncode)
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
        log_dictconfig=granian_log_config(settings.logging),
        workers_kill_timeout=max(1, round(settings.server.drain_timeout_s)),
        # A worker that dies (OOM killer, a crash in native code) is started again while
        # the others keep serving; granian gives up on a crash loop (docs/operations.md).
        respawn_failed_workers=True,
        # Slow-loris clients: a header that trickles in is cut off (docs/reliability.md).
        http1_settings=HTTP1Settings(
            header_read_timeout=max(1, round(settings.server.header_read_timeout_s * 1000))
        ),
    ).serve()
    guard.close()
