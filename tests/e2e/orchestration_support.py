"""A running ``inferia serve`` with every plane, logged in, for the orchestration tests."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

from tests.identity_support import ADMIN_EMAIL, ADMIN_PASSWORD, CHEAP_ARGON2_ENV
from tests.processes import InferiaServer, inferia_env, run_cli
from tests.services import redis_db_url, require_postgres

TINY_SERVER = str(Path(__file__).with_name("tiny_model_server.py"))
FAST_RECONCILER = {
    "INFERIA_ORCHESTRATION__RECONCILE_INTERVAL_S": "0.3",
    "INFERIA_ORCHESTRATION__READINESS_TIMEOUT_S": "8",
    "INFERIA_ORCHESTRATION__RESTART_BACKOFF_S": "0.3",
    "INFERIA_ORCHESTRATION__STOP_GRACE_S": "3",
    "INFERIA_ORCHESTRATION__DRAIN_S": "1",
}


def orchestration_env(data: Path, **extra: str) -> dict[str, str]:
    return inferia_env(
        data,
        INFERIA_ADMIN_EMAIL=ADMIN_EMAIL,
        INFERIA_ADMIN_PASSWORD=ADMIN_PASSWORD,
        **{**CHEAP_ARGON2_ENV, **FAST_RECONCILER, **extra},
    )


class ControlClient:
    """REST calls to the control plane as a logged-in user."""

    def __init__(self, server: InferiaServer, email: str, password: str) -> None:
        self.server = server
        login = httpx.post(
            f"{server.base_url}/auth/login", json={"email": email, "password": password}
        )
        assert login.status_code == 200, login.text
        self.organization_id = login.json()["organization_id"]
        self.headers = {"authorization": f"Bearer {login.json()['access_token']}"}

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(
            method, self.server.base_url + path, headers=self.headers, timeout=30, **kwargs
        )

    def create_pool(self, name: str, **config: Any) -> dict[str, Any]:
        reply = self.call(
            "POST", "/deployment/createpool", json={"name": name, "provider": "local", **config}
        )
        assert reply.status_code == 201, reply.text
        return dict(reply.json())

    def deploy(self, model: str, version: str, pool_id: str) -> dict[str, Any]:
        body = {"model": model, "version": version, "pool_id": pool_id}
        reply = self.call("POST", "/deployment/deploy", json=body)
        assert reply.status_code == 202, reply.text
        return dict(reply.json())

    def status(self, deployment_id: str) -> dict[str, Any]:
        reply = self.call("GET", f"/deployment/status/{deployment_id}")
        assert reply.status_code == 200, reply.text
        return dict(reply.json())

    def wait_state(self, deployment_id: str, state: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        status = self.status(deployment_id)
        while status["state"] != state:
            assert time.monotonic() < deadline, f"not {state} in time: {status}"
            time.sleep(0.1)
            status = self.status(deployment_id)
        return status


def admin(server: InferiaServer) -> ControlClient:
    return ControlClient(server, ADMIN_EMAIL, ADMIN_PASSWORD)


def wait_for(condition: Callable[[], bool], timeout: float = 5.0, what: str = "") -> float:
    """Seconds it took."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, f"not in time: {what}"
        time.sleep(0.05)
    return time.monotonic() - start


def other_organisation(
    server: InferiaServer, email: str, password: str, slug: str
) -> ControlClient:
    """A user who owns another organisation, logged in to it."""
    for args in (
        ["admin", "create-user", "--email", email, "--password", password],
        ["admin", "create-org", "--slug", slug, "--owner", email],
    ):
        result = run_cli(args, server.env)
        assert result.returncode == 0, result.stderr
    other = ControlClient(server, email, password)
    login = httpx.post(
        f"{server.base_url}/auth/login",
        json={"email": email, "password": password, "organization": slug},
    )
    assert login.status_code == 200, login.text
    other.headers = {"authorization": f"Bearer {login.json()['access_token']}"}
    other.organization_id = login.json()["organization_id"]
    return other


def serving(data: Path, **extra: str) -> Iterator[InferiaServer]:
    """A module fixture's body: ``inferia serve`` on ``data`` until the module is done."""
    running = InferiaServer(orchestration_env(data, **extra))
    try:
        # Generous: the shared CI machine may be busy compiling.
        yield running.start(timeout=120)
    finally:
        running.__exit__()


@contextmanager
def backend_env(pair: str) -> Iterator[dict[str, str]]:
    """INFERIA_* settings for one backend pair: embedded, or a scratch PostgreSQL
    database and Redis (for module-scoped servers, which async fixtures cannot serve)."""
    if pair == "sqlite+memory":
        yield {}
        return
    admin_url = require_postgres()
    name = f"inferia_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_postgres(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        yield {
            "INFERIA_DATABASE__URL": urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}")),
            "INFERIA_DATABASE__MIGRATE_ON_START": "true",
            "INFERIA_STATE__URL": redis_db_url(),
        }
    finally:
        asyncio.run(_postgres(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _postgres(url: str, statement: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()
