"""Fixtures shared by the suite: the two backend pairs, and started backends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from inferia.config import DatabaseSettings
from inferia.db import Database, apply_migrations
from inferia.state import StateBackend, build_state_backend
from inferia.tables import all_tables
from tests.services import redis_db_url, scratch_postgres_database

BACKEND_PAIRS = ["sqlite+memory", "postgres+redis"]


@dataclass(frozen=True)
class BackendPair:
    """Where a test's database and state live: embedded, or PostgreSQL + Redis."""

    name: str
    database_url: str
    state_url: str
    data_dir: Path

    @property
    def shared(self) -> bool:
        return bool(self.state_url)

    def env(self) -> dict[str, str]:
        """INFERIA_* settings for a child ``inferia`` process using this pair."""
        return {
            "INFERIA_DATABASE__URL": self.database_url,
            "INFERIA_STATE__URL": self.state_url,
            "INFERIA_DATABASE__MIGRATE_ON_START": "true",
        }


@pytest.fixture(params=BACKEND_PAIRS)
async def backend_pair(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[BackendPair]:
    if request.param == "sqlite+memory":
        yield BackendPair(request.param, "", "", tmp_path)
        return
    async with scratch_postgres_database() as database_url:
        yield BackendPair(request.param, database_url, redis_db_url(), tmp_path)


@pytest.fixture
async def database(backend_pair: BackendPair) -> AsyncIterator[Database]:
    """A started, migrated database of the current pair."""
    db = Database(
        DatabaseSettings(url=backend_pair.database_url), backend_pair.data_dir, all_tables()
    )
    await db.start()
    await apply_migrations(db)
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
async def state(backend_pair: BackendPair) -> AsyncIterator[StateBackend]:
    backend = build_state_backend(backend_pair.state_url)
    await backend.start()
    try:
        yield backend
    finally:
        await backend.close()
