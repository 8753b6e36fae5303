"""Shared set-up of the limits e2e tests: PostgreSQL + Redis + fake upstream + servers.

Each module gets a scratch PostgreSQL database and a Redis database number of its own
(flushed first), so these tests never see another suite's counters or usage stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import openai

from tests.processes import InferiaServer, run_cli
from tests.services import redis_db_url, require_postgres


class ScratchPostgres:
    """A scratch PostgreSQL database for a whole module, dropped afterwards."""

    def __init__(self) -> None:
        self._name = f"inferia_limits_{uuid.uuid4().hex[:12]}"
        self._admin_url = ""

    def __enter__(self) -> str:
        self._admin_url = require_postgres()
        asyncio.run(self._execute(f'CREATE DATABASE "{self._name}"'))
        parts = urlsplit(self._admin_url)
        return urlunsplit(parts._replace(path=f"/{self._name}"))

    def __exit__(self, *exc: object) -> None:
        asyncio.run(self._execute(f'DROP DATABASE IF EXISTS "{self._name}" WITH (FORCE)'))

    async def _execute(self, sql: str) -> None:
        import asyncpg

        connection = await asyncpg.connect(self._admin_url)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()


def usage_rows(database_url: str) -> int:
    """How many usage records the database at ``database_url`` holds."""

    async def count() -> int:
        import asyncpg

        connection = await asyncpg.connect(database_url)
        try:
            return int(await connection.fetchval("SELECT count(*) FROM usage_records"))
        finally:
            await connection.close()

    return asyncio.run(count())


def fresh_redis(db: int) -> str:
    import redis

    url = redis_db_url(db)
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


def write_config(path: Path, upstream_url: str, extra: str = "") -> Path:
    path.write_text(
        f"""
[[models]]
name = "fake"
base_url = "{upstream_url}"

[pricing."fake"]
prompt = 1000.0
completion = 1000.0

[usage]
flush_interval_ms = 50
{extra}
"""
    )
    return path


def create_key(env: dict[str, str], name: str, *flags: str) -> str:
    result = run_cli(["keys", "create", "--name", name, *flags], env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def client(base_url: str, key: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0, timeout=30)


async def chat(c: openai.AsyncOpenAI, **extra: Any) -> tuple[int, dict[str, str], str]:
    """(status, headers, error message or reply text) of one non-streamed request."""
    try:
        raw = await c.chat.completions.with_raw_response.create(
            model="fake", messages=[{"role": "user", "content": "hello"}], **extra
        )
    except openai.APIStatusError as exc:
        return exc.status_code, dict(exc.response.headers), exc.message
    reply = raw.parse()
    return raw.status_code, dict(raw.headers), reply.choices[0].message.content or ""


def run_chat(base_url: str, key: str, **extra: Any) -> tuple[int, dict[str, str], str]:
    """One request from synchronous test code (a client per event loop)."""

    async def one() -> tuple[int, dict[str, str], str]:
        async with client(base_url, key) as c:
            return await chat(c, **extra)

    return asyncio.run(one())


class TcpProxy:
    """A TCP relay to Redis the test can cut (every connection dropped, none accepted)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> TcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def cut(self) -> None:
        """Redis becomes unreachable: connections refused, open ones reset."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                downstream, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                downstream.close()
                continue
            with self._lock:
                self._sockets += [downstream, upstream]
            for a, b in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.close()


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (granian's workers), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def kill_tree(server: InferiaServer, sig: int = signal.SIGKILL) -> None:
    """Signal the server's workers first, then the server: nothing survives as an orphan."""
    assert server.process is not None
    for pid in [*reversed(descendants(server.process.pid)), server.process.pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
    server.process.wait(10)


@contextlib.contextmanager
def serving(
    env: dict[str, str], args: list[str] | None = None, port: int | None = None
) -> Iterator[InferiaServer]:
    """``InferiaServer`` whose workers are killed too if a graceful stop leaves any."""
    server = InferiaServer(env, args, port).start()
    assert server.process is not None
    workers = descendants(server.process.pid)
    try:
        yield server
    finally:
        server.__exit__(None, None, None)
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def cluster_env(
    tmp_path: Path, redis_port: int, database_url: str | None = None, **settings: str
) -> Iterator[tuple[dict[str, str], str]]:
    """A fake upstream, a scratch PostgreSQL database (or ``database_url``) and the
    settings of a server using them and the Redis on ``redis_port`` (a test's own):
    ``(env, database_url)``."""
    from tests.e2e.fake_upstream import FakeUpstream
    from tests.processes import free_port, inferia_env

    upstream = FakeUpstream([free_port()]).start()
    config = write_config(tmp_path / "inferia.toml", upstream.url())
    try:
        with contextlib.ExitStack() as stack:
            url = database_url or stack.enter_context(ScratchPostgres())
            env = inferia_env(
                tmp_path / "data",
                INFERIA_CONFIG=str(config),
                INFERIA_DATABASE__URL=url,
                INFERIA_STATE__URL=f"redis://127.0.0.1:{redis_port}/0",
                INFERIA_DATABASE__MIGRATE_ON_START="true",
                INFERIA_ADMIN_PASSWORD="cluster admin password",
                **settings,
            )
            yield env, url
    finally:
        upstream.stop()
