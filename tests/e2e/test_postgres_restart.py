"""Fault: PostgreSQL stops while requests are served, then starts again. Runs on a
throwaway PostgreSQL cluster of its own (initdb into a temporary directory, a free port,
run as the ``postgres`` user) and a Redis of its own: the shared servers are never
touched. Without PostgreSQL 15's binaries, the ``postgres`` user or root it is skipped
(failed with CI=true, like every missing service: tests/services.py).

Requests of a key already resolved keep being answered during the outage (its principal
is cached), their usage records wait in the Redis stream, and once PostgreSQL is back the
consumer writes every one of them without a restart of Inferia.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.limits_cluster import cluster_env, create_key, run_chat, serving, usage_rows
from tests.e2e.test_usage_redis_restart import OwnRedis, redis_server  # noqa: F401
from tests.processes import free_port, wait_until
from tests.services import unavailable

pytestmark = pytest.mark.e2e
PG_BIN = Path("/usr/lib/postgresql/15/bin")
BEFORE = 10
DURING_OUTAGE = 30


class OwnPostgres:
    """A PostgreSQL cluster in a temporary directory, on a port of its own."""

    def __init__(self) -> None:
        self.port = free_port()
        self._dir = Path(tempfile.mkdtemp(prefix="inferia-pg-"))
        self._data = self._dir / "data"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args],
            check=True,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def create(self) -> OwnPostgres:
        user = pwd.getpwnam("postgres")
        os.chown(self._dir, user.pw_uid, user.pw_gid)
        self._as_postgres(
            str(PG_BIN / "initdb"), "-D", str(self._data), "-U", "postgres", "--auth=trust"
        )
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self._dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self._data),
            "-o",
            options,
            "-l",
            str(self._dir / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self._data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        if (self._data / "postmaster.pid").exists():
            subprocess.run(
                [
                    "runuser",
                    "-u",
                    "postgres",
                    "--",
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(self._data),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
                check=False,
                timeout=60,
                capture_output=True,
            )
        shutil.rmtree(self._dir, ignore_errors=True)


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    if not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None:
        unavailable("no PostgreSQL 15 binaries or runuser to start a cluster of the test's own")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        unavailable("no postgres user to run a cluster of the test's own")
    if os.geteuid() != 0:
        unavailable("starting a cluster as the postgres user needs root")
    cluster = OwnPostgres().create()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.remove()


def test_usage_records_of_requests_served_while_postgres_is_down_are_written_after(
    tmp_path: Path,
    own_postgres: OwnPostgres,
    redis_server: OwnRedis,  # noqa: F811 (the fixture, imported)
) -> None:
    with (
        cluster_env(tmp_path, redis_server.port, own_postgres.url) as (env, database_url),
        serving(env) as server,
    ):
        key = create_key(env, "pg-restart")
        statuses = [run_chat(server.base_url, key)[0] for _ in range(BEFORE)]
        assert statuses == [200] * BEFORE
        wait_until(lambda: usage_rows(database_url) == BEFORE, timeout=30)
        own_postgres.stop()
        statuses = [run_chat(server.base_url, key)[0] for _ in range(DURING_OUTAGE)]
        assert statuses == [200] * DURING_OUTAGE, statuses
        own_postgres.start()
        served = BEFORE + DURING_OUTAGE
        try:
            wait_until(lambda: usage_rows(database_url) >= served, timeout=90, interval=0.5)
        except AssertionError:
            raise AssertionError(
                f"{usage_rows(database_url)} of {served} records\n{server.output[-3000:]}"
            ) from None
        assert usage_rows(database_url) == served
        # And the server serves normally, without a restart.
        assert run_chat(server.base_url, key)[0] == 200
        wait_until(lambda: usage_rows(database_url) == served + 1, timeout=30)
