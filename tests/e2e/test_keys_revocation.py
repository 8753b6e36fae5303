"""A key revoked through one ``inferia serve`` is refused by another process sharing
the database and state backend within one second (docs/architecture.md, "Ports between
planes")."""

from __future__ import annotations

import time

import httpx
import openai
import pytest

from tests.conftest import BackendPair
from tests.identity_support import ADMIN_EMAIL, ADMIN_PASSWORD, CHEAP_ARGON2_ENV
from tests.processes import InferiaServer, inferia_env, run_cli

pytestmark = pytest.mark.e2e


def refused_after(client: openai.OpenAI, started: float, limit_s: float = 3.0) -> float:
    """Seconds from ``started`` until the key is refused (polling every 20 ms)."""
    while time.monotonic() - started < limit_s:
        try:
            client.models.list()
        except openai.AuthenticationError:
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"the key still worked {limit_s} s after its revocation")


def test_revocation_reaches_a_second_server_within_one_second(backend_pair: BackendPair) -> None:
    env = inferia_env(
        backend_pair.data_dir,
        INFERIA_ADMIN_EMAIL=ADMIN_EMAIL,
        INFERIA_ADMIN_PASSWORD=ADMIN_PASSWORD,
        **CHEAP_ARGON2_ENV,
        **backend_pair.env(),
    )
    # Two processes, one database (and one Redis, on that pair; the memory pair shares
    # the SQLite file and the generated secrets, and relies on its 1 s cache lifetime).
    with InferiaServer(env) as first, InferiaServer(env) as second:
        access = httpx.post(
            f"{first.base_url}/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        ).json()["access_token"]
        headers = {"authorization": f"Bearer {access}"}
        timings = []
        for how in ("api", "cli"):
            created = httpx.post(
                f"{first.base_url}/management/api-keys", headers=headers, json={"name": how}
            ).json()
            clients = [
                openai.OpenAI(api_key=created["key"], base_url=f"{s.base_url}/v1", max_retries=0)
                for s in (first, second)
            ]
            for client in clients:
                for _ in range(3):  # warm both processes' caches
                    client.models.list()
            started = time.monotonic()
            if how == "api":
                revoked = httpx.delete(
                    f"{first.base_url}/management/api-keys/{created['api_key']['id']}",
                    headers=headers,
                )
                assert revoked.status_code == 200
            else:
                result = run_cli(["keys", "revoke", created["api_key"]["prefix"]], env)
                assert result.returncode == 0, result.stderr
            # Measured from the moment the revocation was acknowledged.
            started = time.monotonic()
            timings.append(refused_after(clients[1], started))
            refused_after(clients[0], time.monotonic())
        print(f"{backend_pair.name}: revocation seen by the other server after {timings} s")
        assert max(timings) < 1.0, timings
