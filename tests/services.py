"""Where the test suite finds PostgreSQL and Redis, and what happens when it can't.

Locally a missing service skips the tests that need it; with CI=true it fails them,
so a CI run can never go green by skipping the shared-backend half of the suite.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit

import pytest

POSTGRES_URL = os.environ.get(
    "INFERIA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("INFERIA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def unavailable(message: str) -> NoReturn:
    """A service or package a test needs is missing: skip locally, fail in CI."""
    if IN_CI:
        pytest.fail(f"{message}: CI must run the whole suite", pytrace=False)
    pytest.skip(message, allow_module_level=True)


def require(service: str, url: str, default_port: int) -> None:
    if not _reachable(url, default_port):
        unavailable(f"{service} is not reachable at {url}")


def require_postgres() -> str:
    require("PostgreSQL", POSTGRES_URL, 5432)
    return POSTGRES_URL


def require_redis() -> str:
    require("Redis", REDIS_URL, 6379)
    return REDIS_URL


@asynccontextmanager
async def scratch_postgres_database() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database for one test; dropped afterwards."""
    import asyncpg

    admin_url = require_postgres()
    name = f"inferia_test_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    parts = urlsplit(admin_url)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        connection = await asyncpg.connect(admin_url)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


# A run uses the Redis database of INFERIA_TEST_REDIS_URL (slot 0) and the ones after it
# (slots 1..REDIS_SLOTS-1; some tests flush theirs), never a fixed number: two runs on
# one Redis do not collide when their URLs are REDIS_SLOTS databases apart (/0 and /8).
REDIS_SLOTS = 8


def redis_db(slot: int = 0) -> int:
    """The database number of ``slot``: INFERIA_TEST_REDIS_URL's database + ``slot``."""
    if not 0 <= slot < REDIS_SLOTS:
        raise ValueError(f"Redis slot {slot} is not in 0..{REDIS_SLOTS - 1}")
    return int(urlsplit(REDIS_URL).path.strip("/") or 0) + slot


def redis_db_url(slot: int = 0) -> str:
    """INFERIA_TEST_REDIS_URL with its database moved ``slot`` places on."""
    parts = urlsplit(require_redis())
    return urlunsplit(parts._replace(path=f"/{redis_db(slot)}"))


def require_module(name: str) -> object:
    """Import an optional package; CI (which installs every extra) fails without it."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        unavailable(f"{name} is not installed (an optional extra; CI installs every extra)")
