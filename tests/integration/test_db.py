"""The storage layer on real SQLite and real PostgreSQL.

Every database test runs twice, once per engine, against a database whose
tables were created by the real migrations. PostgreSQL: a fresh database per
test on the server named by INFERIA_TEST_POSTGRES_URL, dropped afterwards;
when that server is unreachable the PostgreSQL half is skipped, or fails when
CI=true.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from inferia.config import DatabaseSettings
from inferia.core.errors import (
    ConfigError,
    ConflictError,
    IntegrityViolation,
    NotFoundError,
    StorageError,
    ValidationError,
)
from inferia.db import Database, apply_migrations
from inferia.db.migrate import pending_migrations
from inferia.filtration.identity.bootstrap import create_user, ensure_first_start
from inferia.filtration.identity.passwords import PasswordHasher
from inferia.filtration.identity.tables import Organization, User
from inferia.filtration.members.tables import Membership
from inferia.filtration.roles.catalogue import BUILTIN_ROLE_PERMISSIONS
from inferia.filtration.roles.tables import Role
from inferia.tables import all_tables
from tests.services import unavailable

POSTGRES_URL = os.environ.get(
    "INFERIA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "inferia" / "db" / "migrations"


def _migration_id(path: Path) -> str:
    # inferia_2026_11_27t09_40_09_361120.py -> 2026-11-27T09:40:09:361120
    year, month, day_hour, minute, second, micro = path.stem.removeprefix("inferia_").split("_")
    return f"{year}-{month}-{day_hour.upper()}:{minute}:{second}:{micro}"


# Every migration file, in order: new migrations are picked up without editing this test.
MIGRATION_IDS = sorted(_migration_id(p) for p in MIGRATIONS_DIR.glob("inferia_*.py"))


@pytest.fixture
def hasher() -> PasswordHasher:
    # Cheap parameters: the suite hashes a dozen passwords.
    return PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


async def _admin_connection() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(POSTGRES_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        unavailable(f"PostgreSQL at INFERIA_TEST_POSTGRES_URL unreachable: {type(exc).__name__}")


@pytest.fixture(params=["sqlite", "postgres"])
async def fresh_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A started Database with no tables yet."""
    if request.param == "sqlite":
        db = Database(DatabaseSettings(), tmp_path / "data", all_tables())
        await db.start()
        yield db
        await db.close()
        return

    admin = await _admin_connection()
    name = f"inferia_test_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = urlunsplit(urlsplit(POSTGRES_URL)._replace(path=f"/{name}"))
        db = Database(DatabaseSettings(url=url, pool_min=1, pool_max=5), tmp_path, all_tables())
        await db.start()
        try:
            yield db
        finally:
            await db.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def db(fresh_db: Database) -> Database:
    """A started Database with every migration applied."""
    await apply_migrations(fresh_db)
    return fresh_db


async def test_migrations_apply_once_and_are_idempotent(fresh_db: Database) -> None:
    assert await pending_migrations(fresh_db) == MIGRATION_IDS
    assert await apply_migrations(fresh_db) == MIGRATION_IDS
    assert await apply_migrations(fresh_db) == []
    assert await pending_migrations(fresh_db) == []
    # The tables exist and are empty.
    for table in (Organization, User, Role, Membership):
        assert await table.count() == 0


async def test_concurrent_migration_runners_apply_each_migration_once(fresh_db: Database) -> None:
    first, second = await asyncio.gather(apply_migrations(fresh_db), apply_migrations(fresh_db))
    assert sorted(first + second) == MIGRATION_IDS
    assert await apply_migrations(fresh_db) == []


async def test_unique_and_foreign_key_violations_are_integrity_violations(db: Database) -> None:
    await Organization(slug="acme", name="Acme").save()
    with pytest.raises(IntegrityViolation) as caught:
        async with db.transaction():
            await Organization(slug="acme", name="Acme again").save()
    assert "Acme again" not in caught.value.message  # no values in the message

    # The composite and partial unique indexes of the raw-SQL migration.
    org = await Organization.objects().get(Organization.slug == "acme")
    assert org is not None
    await Role(organization=org.id, name="ops").save()
    with pytest.raises(IntegrityViolation):
        async with db.transaction():
            await Role(organization=org.id, name="ops").save()
    await Role(name="builtin-x", builtin=True).save()
    with pytest.raises(IntegrityViolation):
        async with db.transaction():
            await Role(name="builtin-x", builtin=True).save()

    # A foreign key to nothing.
    with pytest.raises(IntegrityViolation):
        async with db.transaction():
            await Membership(user=uuid.uuid4(), organization=org.id, role=uuid.uuid4()).save()
    # Nothing half-written survived the failed transactions.
    assert await Organization.count() == 1
    assert await Role.count() == 2
    assert await Membership.count() == 0


async def test_other_engine_errors_are_storage_errors(db: Database) -> None:
    with pytest.raises(StorageError) as caught:
        async with db.transaction():
            await db.engine.run_ddl("SELECT * FROM no_such_table")
    assert not isinstance(caught.value, IntegrityViolation)


async def test_first_start_creates_everything_once_under_concurrency(
    db: Database, hasher: PasswordHasher
) -> None:
    results = await asyncio.gather(
        ensure_first_start(db, hasher, "Admin@Example.com", None),
        ensure_first_start(db, hasher, "Admin@Example.com", None),
    )
    winners = [result for result in results if result is not None]
    assert len(winners) == 1
    result = winners[0]
    assert result.email == "admin@example.com"
    assert result.generated_password is not None and len(result.generated_password) >= 24

    assert await User.count() == 1
    assert await Organization.count() == 1
    assert await Membership.count() == 1
    roles = {role.name: role for role in await Role.objects()}
    assert set(roles) == set(BUILTIN_ROLE_PERMISSIONS)
    assert all(role.builtin and role.organization is None for role in roles.values())
    assert json.loads(roles["viewer"].permissions) == BUILTIN_ROLE_PERMISSIONS["viewer"]

    admin = await User.objects().get(User.email == "admin@example.com")
    assert admin is not None and admin.is_superuser and admin.is_active
    assert hasher.verify(admin.password_hash, result.generated_password)
    membership = await Membership.objects().get(Membership.user == admin.id)
    assert membership is not None and membership.role == roles["owner"].id
    org = await Organization.objects().get(Organization.id == membership.organization)
    assert org is not None and org.slug == "default"

    # Later starts change nothing.
    assert await ensure_first_start(db, hasher, "other@example.com", None) is None
    assert await User.count() == 1


async def test_first_start_with_a_given_password(db: Database, hasher: PasswordHasher) -> None:
    with pytest.raises(ValidationError):
        await ensure_first_start(db, hasher, "ops@example.com", "short")
    with pytest.raises(ValidationError):
        await ensure_first_start(db, hasher, "not an e-mail", "correct horse battery")
    assert await User.count() == 0 and await Role.count() == 0

    result = await ensure_first_start(db, hasher, "ops@example.com", "correct horse battery")
    assert result is not None and result.generated_password is None
    admin = await User.objects().get(User.email == "ops@example.com")
    assert admin is not None
    assert hasher.verify(admin.password_hash, "correct horse battery")


async def test_create_user_validates_and_refuses_duplicates(
    db: Database, hasher: PasswordHasher
) -> None:
    await ensure_first_start(db, hasher, "admin@example.com", None)
    good = "a long enough password"

    for email in ("not-an-email", "two@@example.com", "space in@example.com", ""):
        with pytest.raises(ValidationError) as caught:
            await create_user(db, hasher, email, good, "default", "member")
        assert caught.value.param == "email"
    with pytest.raises(ValidationError):
        await create_user(db, hasher, "bob@example.com", "short", "default", "member")
    with pytest.raises(ValidationError):
        await create_user(
            db, hasher, "bob.smith@example.com", "Bob.Smith@example.com", "default", "member"
        )
    with pytest.raises(NotFoundError):
        await create_user(db, hasher, "bob@example.com", good, "nope", "member")
    with pytest.raises(NotFoundError):
        await create_user(db, hasher, "bob@example.com", good, "default", "nope")
    with pytest.raises(ConflictError):
        await create_user(db, hasher, "ADMIN@example.com", good, "default", "member")
    assert await User.count() == 1

    bob = await create_user(db, hasher, "Bob@Example.com", good, "default", "member")
    assert bob.email == "bob@example.com" and not bob.is_superuser
    stored = await User.objects().get(User.id == bob.id)
    assert stored is not None and hasher.verify(stored.password_hash, good)
    member = await Role.objects().get(Role.name == "member")
    membership = await Membership.objects().get(Membership.user == bob.id)
    assert member is not None and membership is not None and membership.role == member.id
    with pytest.raises(ConflictError):
        await create_user(db, hasher, "bob@example.com", good, "default", "viewer")


async def test_ping(db: Database) -> None:
    assert await db.ping() is True


async def test_ping_is_false_for_postgres_on_a_closed_port(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The port is free again and nothing listens on it.
    db = Database(
        DatabaseSettings(url=f"postgresql://postgres@127.0.0.1:{port}/x"), tmp_path, all_tables()
    )
    assert db.kind == "postgres" and not db.is_embedded
    assert await db.ping() is False
    with pytest.raises(StorageError):
        await db.start()


async def test_sqlite_is_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    db = Database(
        DatabaseSettings(sqlite_busy_timeout_ms=5000), tmp_path / "new" / "dir", all_tables()
    )
    await db.start()
    assert db.kind == "sqlite" and db.is_embedded
    assert db.sqlite_path == tmp_path / "new" / "dir" / "inferia.sqlite3"
    assert db.sqlite_path.is_file()
    await apply_migrations(db)
    rows = await db.engine.run_ddl("PRAGMA journal_mode")
    assert rows[0]["journal_mode"] == "wal"
    rows = await db.engine.run_ddl("PRAGMA busy_timeout")
    assert rows[0]["timeout"] == 5000

    async def write(n: int) -> None:
        async with db.transaction():
            await Organization(slug=f"org-{n}", name="x").save()
            await asyncio.sleep(0.01)  # hold the write lock so the others must wait

    # Each transaction is its own connection: they queue on the lock, none fails.
    await asyncio.gather(*(write(n) for n in range(20)))
    assert await Organization.count() == 20
    await db.close()


_WRITER_PROCESS = """
import asyncio, pathlib, sys
from inferia.config import DatabaseSettings
from inferia.db import Database
from inferia.filtration.identity.tables import Organization
from inferia.tables import all_tables

async def main() -> None:
    db = Database(DatabaseSettings(), pathlib.Path(sys.argv[1]), all_tables())
    await db.start()
    for n in range(15):
        async with db.transaction():
            await Organization(slug=f"{sys.argv[2]}-{n}", name="x").save()
            await asyncio.sleep(0.005)
    await db.close()

asyncio.run(main())
"""


async def test_sqlite_writers_in_several_processes_wait_for_each_other(tmp_path: Path) -> None:
    db = Database(DatabaseSettings(), tmp_path, all_tables())
    await db.start()
    await apply_migrations(db)
    writers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _WRITER_PROCESS,
            str(tmp_path),
            f"p{i}",
            stderr=asyncio.subprocess.PIPE,
        )
        for i in range(3)
    ]
    for writer in writers:
        _, stderr = await writer.communicate()
        assert writer.returncode == 0, stderr.decode()
    assert await Organization.count() == 45
    await db.close()


def test_unsupported_url_scheme_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        Database(DatabaseSettings(url="mysql://root:s3cret@db/inferia"), tmp_path, all_tables())
    assert caught.value.param == "database.url"
    assert "s3cret" not in caught.value.message
    with pytest.raises(ConfigError):
        Database(DatabaseSettings(url="postgresql://u:p@h:notaport/db"), tmp_path, all_tables())


def test_password_hasher() -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    digest = hasher.hash("correct horse battery")
    assert digest.startswith("$argon2id$")
    assert hasher.verify(digest, "correct horse battery")
    assert not hasher.verify(digest, "wrong horse battery")
    assert not hasher.verify("not a hash", "correct horse battery")
    assert not hasher.needs_rehash(digest)
    stronger = PasswordHasher(time_cost=2, memory_cost=8192, parallelism=1)
    assert stronger.needs_rehash(digest)
    assert stronger.verify(digest, "correct horse battery")  # old hashes still verify
    assert hasher.needs_rehash("not a hash")
