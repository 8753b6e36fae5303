"""Shared helpers of the identity tests: an app of the filtration plane on a backend
pair, with cheap argon2 parameters, a bootstrapped admin and a login helper."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pyotp

from inferia.app import build_app
from inferia.config import ALL_PLANES, Settings, load_settings
from inferia.core.secrets import resolve_secrets
from inferia.db import Database, apply_migrations
from inferia.filtration.identity.bootstrap import ensure_first_start
from inferia.filtration.identity.passwords import PasswordHasher
from inferia.tables import all_tables
from tests.processes import free_port, inferia_env

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct horse battery"
PASSWORD = "a long enough password"
# argon2 at its cheapest: the tests exercise the flow, not the cost.
CHEAP_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 8, "argon2_parallelism": 1}
CHEAP_ARGON2_ENV = {
    "INFERIA_AUTH__ARGON2_TIME_COST": "1",
    "INFERIA_AUTH__ARGON2_MEMORY_KIB": "8",
    "INFERIA_AUTH__ARGON2_PARALLELISM": "1",
}


def admin_env(data_dir: Path) -> dict[str, str]:
    """A child ``inferia``'s environment: a private data dir, the known first admin and
    cheap argon2."""
    return inferia_env(
        data_dir,
        INFERIA_ADMIN_EMAIL=ADMIN_EMAIL,
        INFERIA_ADMIN_PASSWORD=ADMIN_PASSWORD,
        **CHEAP_ARGON2_ENV,
    )


def identity_settings(
    data_dir: Path,
    database_url: str = "",
    state_url: str = "",
    *,
    planes: Sequence[str] = ("filtration",),
    security: dict[str, Any] | None = None,
    **auth: Any,
) -> Settings:
    settings = load_settings(
        None,
        env={},
        overrides={
            "data_dir": str(data_dir),
            "planes": list(planes),
            "database": {"url": database_url},
            "state": {"url": state_url},
            "auth": {**CHEAP_ARGON2, **auth},
            "security": security or {},
            # Apps with the orchestration plane bind a gRPC port: never the default one,
            # which another test run on this machine may hold.
            "server": {"grpc_port": free_port()},
        },
    )
    return resolve_secrets(settings)


def all_planes_settings(pair: Any) -> Settings:
    """Every plane in one app, on a ``BackendPair``'s database and state backend."""
    return identity_settings(pair.data_dir, pair.database_url, pair.state_url, planes=ALL_PLANES)


async def prepare(settings: Settings) -> None:
    database = Database(settings.database, settings.data_path, all_tables())
    await database.start()
    try:
        await apply_migrations(database)
        await ensure_first_start(
            database, PasswordHasher.from_settings(settings.auth), ADMIN_EMAIL, ADMIN_PASSWORD
        )
    finally:
        await database.close()


@asynccontextmanager
async def identity_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app served in the test's own event loop (unlike Litestar's AsyncTestClient,
    which runs it in a thread), so a test may also query the database directly."""
    await prepare(settings)
    app = build_app(settings)
    # The runtime's own lifespan (what the app's lifespan runs), entered directly:
    # Litestar's wrapper uses an anyio cancel scope that pytest fixtures cannot carry
    # from set-up to teardown.
    async with (
        app.state["runtime"].lifespan(app),
        httpx.AsyncClient(
            # A fresh client address per client: throttling counters on a shared Redis
            # must not carry over from one test to the next.
            transport=httpx.ASGITransport(app=app, client=(random_address(), 50000)),
            base_url="http://testserver",
        ) as client,
    ):
        yield client


def random_address() -> str:
    return "10." + ".".join(str(secrets.randbelow(256)) for _ in range(3))


def unique_email(name: str = "user") -> str:
    return f"{name}-{secrets.token_hex(4)}@example.com"


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def login(
    client: httpx.AsyncClient,
    email: str = ADMIN_EMAIL,
    password: str = ADMIN_PASSWORD,
    **extra: Any,
) -> dict[str, Any]:
    reply = await client.post("/auth/login", json={"email": email, "password": password, **extra})
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def totp_code(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)
