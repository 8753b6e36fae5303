"""Fixtures of the attack suite: one backend pair per module (servers take seconds to
start on a loaded machine; each test makes its own accounts, so they can share)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.conftest import BACKEND_PAIRS, BackendPair
from tests.security.attack_support import attacked_gateway
from tests.services import redis_db_url, require_postgres


async def _postgres(admin_url: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="module", params=BACKEND_PAIRS)
def module_pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BackendPair]:
    """Like ``backend_pair``, for every test of a module."""
    data_dir = tmp_path_factory.mktemp("attack")
    if request.param == "sqlite+memory":
        yield BackendPair(request.param, "", "", data_dir)
        return
    admin_url = require_postgres()
    name = f"inferia_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_postgres(admin_url, f'CREATE DATABASE "{name}"'))
    database_url = urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    try:
        yield BackendPair(request.param, database_url, redis_db_url(), data_dir)
    finally:
        asyncio.run(_postgres(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def api_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A gateway (``attacked_gateway``) where models defined through the API may use
    the fake upstream on the loopback: ``fake``, ``server``, ``env``, ``data`` (its
    data directory)."""
    tmp = tmp_path_factory.mktemp("api-gateway")
    with attacked_gateway(tmp, INFERIA_INFERENCE__ALLOW_PRIVATE_API_UPSTREAMS="true") as (
        fake,
        server,
        env,
    ):
        yield {"fake": fake, "server": server, "env": env, "data": tmp / "data"}
