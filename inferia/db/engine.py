"""The relational database of one process: embedded SQLite or PostgreSQL.

piccolo finds a table's engine through the class attribute ``Table._meta.db``,
and its migration machinery through ``inferia.db.piccolo_conf.DB``. Both are
process-wide, so a process has exactly one ``Database``: ``start()`` (or
``bind_tables()``) makes it the one every Inferia table uses. Building a second
one and starting it rebinds the tables to it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from piccolo.apps.migrations.tables import Migration
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType
from piccolo.querystring import QueryString
from piccolo.table import Table

from inferia.config import DatabaseSettings
from inferia.core.errors import ConfigError
from inferia.db import piccolo_conf
from inferia.db.errors import wrap_errors
from inferia.db.registry import PICCOLO_CONF_MODULE

log = logging.getLogger(__name__)

DatabaseKind = Literal["sqlite", "postgres"]
SQLITE_FILENAME = "inferia.sqlite3"
_POSTGRES_SCHEMES = frozenset({"postgresql", "postgres"})
# asyncpg waits 60 s for a connection by default; a database that does not answer
# within 10 s is down as far as start-up and requests are concerned.
_CONNECT_TIMEOUT_S = 10.0


class _PostgresTransaction(PostgresTransaction):
    """PostgresTransaction that gives its connection back when BEGIN fails.

    As with SQLite below: piccolo acquires the connection, then BEGINs in
    ``__aenter__``; if BEGIN fails ``__aexit__`` never runs and the pool loses
    that connection for good.
    """

    async def begin(self) -> None:
        try:
            await super().begin()  # type: ignore[no-untyped-call]  # unannotated in piccolo
        except BaseException:
            if self.engine.pool is not None:
                await self.engine.pool.release(self.connection)
            else:
                await self.connection.close()
            raise


class _PostgresEngine(PostgresEngine):
    """PostgresEngine without the blocking work piccolo does in ``__init__``, and
    with ``_PostgresTransaction``.

    piccolo's Engine constructor connects synchronously (from a helper thread when
    an event loop is running) to log the server version and create extensions.
    Inferia needs no extension, and ``Database.start()`` connects, asynchronously.
    """

    async def check_version(self) -> None:
        return None

    async def prep_database(self) -> None:
        return None

    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return _PostgresTransaction(engine=self, allow_nested=allow_nested)


class _SQLiteTransaction(SQLiteTransaction):
    """SQLiteTransaction that closes its connection when BEGIN itself fails.

    piccolo opens the connection, then runs BEGIN in ``__aenter__``; when BEGIN
    fails (SQLITE_BUSY after the busy timeout) ``__aexit__`` never runs, the
    connection is never closed and its aiosqlite thread keeps the process from
    exiting.
    """

    async def begin(self) -> None:
        try:
            await super().begin()  # type: ignore[no-untyped-call]  # unannotated in piccolo
        except BaseException:
            await self.connection.close()
            raise


class _SQLiteEngine(SQLiteEngine):
    """SQLiteEngine whose transactions are ``_SQLiteTransaction``s (piccolo's
    migration machinery opens them too, through ``engine.transaction()``)."""

    async def check_version(self) -> None:
        # piccolo logs "Running Sqlite version 3.4" (3.40 as a float) at INFO on
        # every construction, into every CLI command's output; nothing to check.
        return None

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.deferred,
        allow_nested: bool = True,
    ) -> SQLiteTransaction:
        return _SQLiteTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )


class Database:
    """The process' database; see the module docstring for why there is one."""

    def __init__(
        self,
        settings: DatabaseSettings,
        data_dir: Path,
        tables: Sequence[type[Table]],
    ) -> None:
        """``tables``: what ``bind_tables`` binds (``inferia.tables.all_tables()``)."""
        self._settings = settings
        self._tables = tuple(tables)
        self._started = False
        self._sqlite_path: Path | None = None
        if not settings.url:
            self._kind: DatabaseKind = "sqlite"
            self._sqlite_path = data_dir / SQLITE_FILENAME
            # sqlite3's `timeout` is the busy timeout: a writer waits this long for
            # another connection's (or process') lock instead of failing at once.
            self._engine: Engine[Any] = _SQLiteEngine(
                path=str(self._sqlite_path),
                timeout=settings.sqlite_busy_timeout_ms / 1000,
            )
        else:
            self._kind = "postgres"
            self._engine = _PostgresEngine(
                config={"dsn": _checked_postgres_url(settings.url), "timeout": _CONNECT_TIMEOUT_S}
            )
            _check_pool_sizes(settings)

    @property
    def kind(self) -> DatabaseKind:
        return self._kind

    @property
    def is_embedded(self) -> bool:
        return self._kind == "sqlite"

    @property
    def engine(self) -> Engine[Any]:
        return self._engine

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file, or None on PostgreSQL."""
        return self._sqlite_path

    @property
    def busy_timeout_s(self) -> float:
        """How long an SQLite writer waits for another's lock."""
        return self._settings.sqlite_busy_timeout_ms / 1000

    @property
    def started(self) -> bool:
        return self._started

    def bind_tables(self) -> None:
        """Make this the engine of every Inferia table and of piccolo's migrations.

        Process-wide (class attributes and piccolo_conf.DB): see the module docstring.
        """
        for table in self._tables:
            table._meta.db = self._engine
        # piccolo's own table recording which migrations ran.
        Migration._meta.db = self._engine
        piccolo_conf.bind(self._engine)
        # piccolo's migration machinery imports the module this names to find DB.
        os.environ["PICCOLO_CONF"] = PICCOLO_CONF_MODULE

    async def start(self) -> None:
        """Bind the tables and connect: WAL mode on SQLite, the pool on PostgreSQL."""
        self.bind_tables()
        if self._started:
            return
        if isinstance(self._engine, PostgresEngine):
            async with wrap_errors():
                await self._engine.start_connection_pool(
                    min_size=self._settings.pool_min, max_size=self._settings.pool_max
                )
        else:
            await self._start_sqlite()
        self._started = True

    async def _start_sqlite(self) -> None:
        assert self._sqlite_path is not None
        try:
            self._sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"data_dir {self._sqlite_path.parent} cannot be created: {exc.strerror}",
                param="data_dir",
            ) from exc
        async with wrap_errors():
            # WAL lets readers run during a write and is stored in the file, so
            # setting it once covers every later connection from every process.
            rows = await self._engine.run_ddl("PRAGMA journal_mode=WAL")
        mode = str(rows[0]["journal_mode"]).lower() if rows else "unknown"
        if mode != "wal":
            # Some file systems (network mounts) cannot do WAL; SQLite then keeps
            # its rollback journal, which works with more "database is locked" waits.
            log.warning("SQLite could not enter WAL mode (journal_mode=%s)", mode)

    async def close(self, timeout_s: float = 10.0) -> None:
        """Close the pool; connections still checked out after ``timeout_s`` are cut,
        so a leaked connection can never hang shutdown."""
        if isinstance(self._engine, PostgresEngine) and self._engine.pool is not None:
            pool = self._engine.pool
            try:
                async with asyncio.timeout(timeout_s):
                    await pool.close()
            except TimeoutError:
                log.warning("PostgreSQL pool did not close in %.0f s; terminating it", timeout_s)
                pool.terminate()
            self._engine.pool = None
        self._started = False

    async def ping(self, timeout_s: float = 2.0) -> bool:
        """True when the database answers ``SELECT 1`` within ``timeout_s``."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._engine.run_querystring(QueryString("SELECT 1"))
        except Exception as exc:
            # Readiness probes want a yes/no; any failure is "not ready".
            log.debug("database ping failed: %s", type(exc).__name__)
            return False
        return True

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """One transaction for every query in the block (piccolo tracks it per task).

        Driver errors come out as ``IntegrityViolation``/``StorageError``. On
        PostgreSQL a failed statement aborts the transaction: catch errors outside
        the block, not inside. Nested blocks join the outer transaction.
        """
        async with wrap_errors():
            if isinstance(self._engine, SQLiteEngine):
                # IMMEDIATE takes the write lock at BEGIN, waiting up to the busy
                # timeout. A DEFERRED transaction that reads and then writes fails
                # at once with "database is locked" if another writer got there
                # first, busy timeout or not.
                async with self._engine.transaction(transaction_type=TransactionType.immediate):
                    yield
            else:
                async with self._engine.transaction():
                    yield


def _checked_postgres_url(url: str) -> str:
    """Validate ``database.url`` without ever putting it (it holds a password) in an error."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a non-numeric or out-of-range port
    except ValueError as exc:
        raise ConfigError(
            "database.url is not a valid URL (expected postgresql://user:password@host:port/db)",
            param="database.url",
        ) from exc
    if parts.scheme not in _POSTGRES_SCHEMES:
        raise ConfigError(
            f"database.url: unsupported scheme {parts.scheme!r}; use postgresql://... "
            "or leave it empty for the embedded SQLite database",
            param="database.url",
        )
    return url


def _check_pool_sizes(settings: DatabaseSettings) -> None:
    if settings.pool_min < 0 or settings.pool_max < 1 or settings.pool_min > settings.pool_max:
        raise ConfigError(
            "database.pool_min/pool_max: need 0 <= pool_min <= pool_max and pool_max >= 1",
            param="database.pool_max",
        )
