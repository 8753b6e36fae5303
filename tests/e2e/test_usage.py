"""Usage records and inference logs end to end, and the policy management API.

One `inferia serve` on PostgreSQL + Redis; requests through the openai SDK; the usage
stream drained by the server's consumer; read back through /management/usage and /logs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any, NamedTuple

import asyncpg
import httpx
import openai
import pytest

from tests.e2e.fake_upstream import FakeUpstream
from tests.e2e.limits_cluster import (
    ScratchPostgres,
    create_key,
    fresh_redis,
    run_chat,
    serving,
    write_config,
)
from tests.processes import InferiaServer, free_port, inferia_env, wait_until

pytestmark = pytest.mark.e2e
REDIS_DB = 3  # a slot: INFERIA_TEST_REDIS_URL's database + 3 (tests/services.py)
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "usage admin password"


class Setup(NamedTuple):
    env: dict[str, str]
    server: InferiaServer
    database_url: str
    admin: dict[str, str]  # Authorization header of the admin


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    upstream = FakeUpstream([free_port()]).start()
    data_dir = tmp_path_factory.mktemp("usage")
    config = write_config(data_dir / "inferia.toml", upstream.url())
    try:
        with ScratchPostgres() as database_url:
            env = inferia_env(
                data_dir,
                INFERIA_CONFIG=str(config),
                INFERIA_DATABASE__URL=database_url,
                INFERIA_STATE__URL=fresh_redis(REDIS_DB),
                INFERIA_DATABASE__MIGRATE_ON_START="true",
                INFERIA_ADMIN_EMAIL=ADMIN_EMAIL,
                INFERIA_ADMIN_PASSWORD=ADMIN_PASSWORD,
            )
            with serving(env) as server:
                login = httpx.post(
                    f"{server.base_url}/auth/login",
                    json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
                )
                assert login.status_code == 200, login.text
                token = login.json()["access_token"]
                yield Setup(env, server, database_url, {"authorization": f"Bearer {token}"})
    finally:
        upstream.stop()


def _get(setup: Setup, path: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{setup.server.base_url}{path}", params=params, headers=setup.admin)


def test_requests_become_usage_records_and_logs(setup: Setup) -> None:
    key = create_key(setup.env, "usage")
    assert run_chat(setup.server.base_url, key)[0] == 200

    async def stream() -> None:
        async with openai.AsyncOpenAI(
            base_url=f"{setup.server.base_url}/v1", api_key=key, max_retries=0
        ) as c:
            response = await c.chat.completions.create(
                model="fake", messages=[{"role": "user", "content": "hi"}], stream=True
            )
            async for _ in response:
                pass

    asyncio.run(stream())
    key_id = _key_id(setup, key)

    def two_logged() -> bool:
        page = _get(setup, "/management/logs", key_id=key_id).json()
        return len(page["data"]) == 2

    wait_until(two_logged, timeout=10)
    logs = _get(setup, "/management/logs", key_id=key_id, limit=1).json()
    assert len(logs["data"]) == 1 and logs["next_cursor"]
    older = _get(setup, "/management/logs", key_id=key_id, cursor=logs["next_cursor"]).json()
    entries = logs["data"] + older["data"]
    assert [e["stream"] for e in entries] == [True, False]  # newest first
    assert all(e["model"] == "fake" and e["status"] == 200 for e in entries)
    assert entries[1]["prompt_tokens"] == 11 and entries[1]["completion_tokens"] == 7
    assert entries[0]["ttft_ms"] is not None
    assert entries[0]["request_body"] is None  # bodies are off by default

    report = _get(setup, "/management/usage", bucket="day", group_by="model,key").json()
    mine = [r for r in report["data"] if r["key_id"] == key_id]
    assert len(mine) == 1
    row = mine[0]
    assert row["requests"] == 2 and row["model"] == "fake"
    assert row["prompt_tokens"] == 22
    # [pricing."fake"]: 1000 USD per million tokens of each kind.
    tokens = row["prompt_tokens"] + row["completion_tokens"]
    assert row["cost_usd"] == pytest.approx(tokens * 0.001)


def test_bodies_kept_per_organisation_and_sealed_at_rest(setup: Setup) -> None:
    created = httpx.post(
        f"{setup.server.base_url}/management/policies",
        json={"scope": "organization", "log_bodies": True},
        headers=setup.admin,
    )
    assert created.status_code == 201, created.text
    key = create_key(setup.env, "bodies")
    key_id = _key_id(setup, key)

    def logged_with_body() -> bool:
        # The snapshot change reaches the gateway within moments; retry until it has.
        run_chat(setup.server.base_url, key)
        page = _get(setup, "/management/logs", key_id=key_id, include_bodies="true").json()
        return any(e["request_body"] for e in page["data"])

    wait_until(logged_with_body, timeout=10, interval=0.2)
    page = _get(setup, "/management/logs", key_id=key_id, include_bodies="true").json()
    entry = next(e for e in page["data"] if e["request_body"])
    assert '"hello"' in entry["request_body"]
    assert "Hello from the fake upstream." in entry["response_body"]
    stored = asyncio.run(_fetch_body(setup.database_url, entry["id"]))
    assert stored is not None and stored.startswith("v1.") and "hello" not in stored
    httpx.delete(
        f"{setup.server.base_url}/management/policies/{created.json()['id']}", headers=setup.admin
    )


async def _fetch_body(database_url: str, log_id: str) -> str | None:
    connection = await asyncpg.connect(database_url)
    try:
        value: str | None = await connection.fetchval(
            "SELECT request_body FROM inference_logs WHERE id = $1::uuid", log_id
        )
        return value
    finally:
        await connection.close()


def _key_id(setup: Setup, key: str) -> str:
    prefix = key[: len("sk-inf-") + 12]
    listing = httpx.get(f"{setup.server.base_url}/management/api-keys", headers=setup.admin)
    if listing.status_code == 200:
        body = listing.json()
        for record in body.get("data", body) if isinstance(body, dict) else body:
            if record.get("prefix") == prefix:
                return str(record["id"])
    from tests.processes import run_cli

    for line in run_cli(["keys", "list"], setup.env).stdout.splitlines():
        if prefix in line:
            return line.split()[0]
    raise AssertionError("key not found")


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"scope": "organization", "limits": {"rpm": -1}}, "limits.rpm"),
        ({"scope": "organization", "limits": {"rpm": "many"}}, "limits.rpm"),
        ({"scope": "planet", "limits": {"rpm": 1}}, "scope"),
        (
            {"scope": "organization", "limits": {"tpm": 100, "daily_tokens": 5}},
            "limits.daily_tokens",
        ),
        (
            {"scope": "organization", "model": "unpriced", "limits": {"daily_budget": 1}},
            "limits.daily_budget",
        ),
        ({"scope": "api_key", "subject": "nope", "limits": {"rpm": 1}}, "subject"),
        ({"scope": "organization", "limits": {"rpm": 1}, "colour": "red"}, "colour"),
    ],
)
def test_policy_api_rejects_bad_input_with_422(
    setup: Setup, body: dict[str, Any], param: str
) -> None:
    response = httpx.post(
        f"{setup.server.base_url}/management/policies", json=body, headers=setup.admin
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error"


def test_policy_api_lifecycle_is_guarded_and_audited(setup: Setup) -> None:
    base = f"{setup.server.base_url}/management/policies"
    assert httpx.get(base).status_code == 401
    created = httpx.post(
        base,
        json={"scope": "organization", "model": "fake", "limits": {"rpm": 5}},
        headers=setup.admin,
    )
    assert created.status_code == 201, created.text
    policy = created.json()
    assert policy["limits"] == {"rpm": 5} and policy["model"] == "fake"
    duplicate = httpx.post(
        base,
        json={"scope": "organization", "model": "fake", "limits": {"rpm": 6}},
        headers=setup.admin,
    )
    assert duplicate.status_code == 409
    changed = httpx.patch(
        f"{base}/{policy['id']}", json={"limits": {"rpm": 7, "tpm": 700}}, headers=setup.admin
    )
    assert changed.status_code == 200 and changed.json()["limits"] == {"rpm": 7, "tpm": 700}
    assert httpx.delete(f"{base}/{policy['id']}", headers=setup.admin).status_code == 204
    assert httpx.get(f"{base}/{policy['id']}", headers=setup.admin).status_code == 404
    audit = httpx.get(
        f"{setup.server.base_url}/audit/logs", params={"action": "policy.*"}, headers=setup.admin
    ).json()
    actions = [r["action"] for r in audit["data"] if r.get("target") == policy["id"]]
    assert sorted(actions) == ["policy.create", "policy.delete", "policy.update"]
