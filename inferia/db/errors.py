"""Translate database driver exceptions into Inferia's storage errors.

sqlite3 (re-raised unchanged by aiosqlite) and asyncpg each raise their own
exception types; code above the storage layer only ever sees
``IntegrityViolation`` (a unique or foreign-key constraint refused a write) or
``StorageError`` (anything else). Messages name the constraint or the error
class, never SQL parameters or values: PostgreSQL's DETAIL ("Key (email)=(...)")
and connection strings are left out on purpose. The driver exception stays
chained as ``__cause__`` for server-side debugging.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from inferia.core.errors import IntegrityViolation, StorageError

# Extended result codes that mean "a unique or foreign-key constraint refused
# the write"; NOT NULL / CHECK failures are bugs in our code, not conflicts.
_SQLITE_INTEGRITY_CODES = frozenset(
    {
        "SQLITE_CONSTRAINT_UNIQUE",
        "SQLITE_CONSTRAINT_PRIMARYKEY",
        "SQLITE_CONSTRAINT_FOREIGNKEY",
    }
)

_ASYNCPG_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError)


def translate(exc: BaseException) -> StorageError | None:
    """The storage error for a driver exception, or None if it is not one."""
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, sqlite3.Error):
        return _from_sqlite(exc)
    if isinstance(exc, asyncpg.UniqueViolationError | asyncpg.ForeignKeyViolationError):
        return _from_asyncpg_integrity(exc)
    if isinstance(exc, asyncpg.SyntaxOrAccessError):
        # Class 42 ('relation "x" does not exist', permission denied) names objects,
        # not values; other classes can quote input ('invalid input syntax ...: "v"').
        return StorageError(f"database error (SQLSTATE {exc.sqlstate}): {exc}")
    if isinstance(exc, asyncpg.PostgresError):
        return StorageError(f"database error ({type(exc).__name__}, SQLSTATE {exc.sqlstate})")
    if isinstance(exc, _ASYNCPG_ERRORS):
        return StorageError(f"database error ({type(exc).__name__})")
    # Connection refused, DNS failure, connect timeout (TimeoutError is an OSError).
    if isinstance(exc, OSError):
        return StorageError(f"database unreachable ({type(exc).__name__})")
    return None


def _from_sqlite(exc: sqlite3.Error) -> StorageError:
    code = getattr(exc, "sqlite_errorname", "") or type(exc).__name__
    if isinstance(exc, sqlite3.IntegrityError) and code in _SQLITE_INTEGRITY_CODES:
        # sqlite's text is "UNIQUE constraint failed: users.email": names, no values.
        return IntegrityViolation(f"constraint violated: {exc}")
    # sqlite binds parameters separately, so its messages ("no such table: x",
    # "database is locked") name objects, never values: keep them, they say what to fix.
    return StorageError(f"database error ({code}): {exc}")


def _from_asyncpg_integrity(exc: asyncpg.PostgresError) -> IntegrityViolation:
    kind = "unique" if isinstance(exc, asyncpg.UniqueViolationError) else "foreign key"
    where = ".".join(
        part
        for part in (getattr(exc, "table_name", None), getattr(exc, "constraint_name", None))
        if part
    )
    return IntegrityViolation(f"{kind} constraint violated: {where or 'unknown'}")


@asynccontextmanager
async def wrap_errors() -> AsyncIterator[None]:
    """Re-raise driver exceptions from the block as ``IntegrityViolation``/``StorageError``.

    Usable as ``async with wrap_errors():`` or as a decorator ``@wrap_errors()`` on
    an ``async def``. Other exceptions pass through untouched.
    """
    try:
        yield
    except Exception as exc:
        translated = translate(exc)
        if translated is None or translated is exc:
            raise
        raise translated from exc
