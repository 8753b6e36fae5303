"""``/management/models``: organisation models defined through the API reach the
gateway's routing table through change events, with their keys sealed and audited."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.e2e.fake_upstream import FakeUpstream
from tests.e2e.gateway_fixtures import PLANES, client, create_key, split_planes
from tests.identity_support import ADMIN_EMAIL, ADMIN_PASSWORD, CHEAP_ARGON2_ENV
from tests.processes import InferiaServer, free_port, inferia_env

pytestmark = pytest.mark.e2e
UPSTREAM_KEY = "sk-upstream-never-stored-in-clear"


class Stack:
    def __init__(self, fake: FakeUpstream, server: InferiaServer, env: dict[str, str], data: Path):
        self.fake, self.server, self.env, self.data = fake, server, env, data
        login = httpx.post(
            f"{server.base_url}/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        assert login.status_code == 200, login.text
        self.admin = {"authorization": f"Bearer {login.json()['access_token']}"}

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(
            method, f"{self.server.base_url}/management/models{path}", headers=self.admin, **kwargs
        )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data = tmp_path_factory.mktemp("models-api")
    fake = FakeUpstream([free_port()]).start()
    env = inferia_env(
        data,
        INFERIA_ADMIN_EMAIL=ADMIN_EMAIL,
        INFERIA_ADMIN_PASSWORD=ADMIN_PASSWORD,
        # The fake listens on loopback: allow private addresses for API-defined upstreams.
        INFERIA_INFERENCE__ALLOW_PRIVATE_API_UPSTREAMS="true",
        **CHEAP_ARGON2_ENV,
    )
    try:
        with InferiaServer(env, PLANES) as server:
            yield Stack(fake, server, env, data)
    finally:
        fake.stop()


def wait_for(condition: Any, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_a_model_defined_through_the_api_serves_traffic(stack: Stack) -> None:
    created = stack.api(
        "POST",
        "/",
        json={
            "name": "org-model",
            "routing_strategy": "least_outstanding",
            "endpoints": [
                {
                    "base_url": stack.fake.url("a"),
                    "api_key": UPSTREAM_KEY,
                    "upstream_model": "served-org-model",
                    "headers": {"x-org": "1"},
                }
            ],
        },
    )
    assert created.status_code == 201, created.text
    record = created.json()
    assert record["endpoints"][0]["has_api_key"] is True
    assert UPSTREAM_KEY not in created.text
    sdk = client(stack.server, create_key(stack.env))
    # A change event rebuilds the routing table: no restart, no waiting for the TTL.
    wait_for(lambda: "org-model" in {m.id for m in sdk.models.list()}, timeout=2)
    reply = sdk.chat.completions.create(
        model="org-model", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.choices[0].message.content
    seen = stack.fake.requests()[-1]
    assert seen["body"]["model"] == "served-org-model"
    assert seen["headers"]["Authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert seen["headers"]["x-org"] == "1"

    # Sealed at rest: the key's plaintext is nowhere in the database files.
    for path in stack.data.glob("*.sqlite3*"):
        assert UPSTREAM_KEY.encode() not in path.read_bytes(), path

    # Updating without an api_key keeps the stored one; deleting removes the model.
    updated = stack.api(
        "PATCH",
        f"/{record['id']}",
        json={"endpoints": [{"base_url": stack.fake.url("a"), "weight": 2}]},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["endpoints"][0] == {
        **updated.json()["endpoints"][0],
        "has_api_key": True,
        "weight": 2,
    }
    assert stack.api("DELETE", f"/{record['id']}").status_code == 204
    wait_for(lambda: "org-model" not in {m.id for m in sdk.models.list()}, timeout=2)
    with pytest.raises(openai.NotFoundError):
        sdk.chat.completions.create(model="org-model", messages=[{"role": "user", "content": "hi"}])

    audit = httpx.get(
        f"{stack.server.base_url}/audit/logs", params={"action": "model.*"}, headers=stack.admin
    )
    assert audit.status_code == 200, audit.text
    actions = [r["action"] for r in audit.json()["data"] if r.get("target") == record["id"]]
    assert sorted(actions) == ["model.create", "model.delete", "model.update"]
    assert UPSTREAM_KEY not in audit.text


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"name": "x", "endpoints": []}, 400, "endpoints"),
        ({"name": "x"}, 400, None),  # Litestar names the body ("data"); the message names the field
        ({"name": "x", "endpoints": [{"base_url": "ftp://host"}]}, 400, "endpoints[0].base_url"),
        (
            {"name": "x", "endpoints": [{"base_url": "http://a.example", "weight": 0}]},
            400,
            "endpoints[0].weight",
        ),
        ({"name": "x", "surprise": 1, "endpoints": [{"base_url": "http://a.example"}]}, 400, None),
        # Cloud metadata and link-local addresses are refused whatever the config says.
        (
            {"name": "x", "endpoints": [{"base_url": "http://169.254.169.254/latest"}]},
            422,
            "endpoints[0].base_url",
        ),
        (
            {"name": "x", "endpoints": [{"base_url": "http://[fe80::1]:80/v1"}]},
            422,
            "endpoints[0].base_url",
        ),
    ],
)
def test_bad_model_definitions(
    stack: Stack, body: dict[str, Any], status: int, param: str | None
) -> None:
    reply = stack.api("POST", "/", json=body)
    assert reply.status_code == status, reply.text
    error = reply.json()["error"]
    if param is not None:
        assert error["param"] == param
    else:
        assert "endpoints" in error["message"] or "surprise" in error["message"]


def test_duplicate_names_and_unknown_ids(stack: Stack) -> None:
    body = {"name": "dup", "endpoints": [{"base_url": stack.fake.url("a")}]}
    first = stack.api("POST", "/", json=body)
    assert first.status_code == 201
    assert stack.api("POST", "/", json=body).status_code == 409
    assert stack.api("GET", "/not-a-uuid").status_code == 404
    assert stack.api("DELETE", f"/{first.json()['id']}").status_code == 204
    assert stack.api("DELETE", f"/{first.json()['id']}").status_code == 404


def test_management_requires_a_session(stack: Stack) -> None:
    reply = httpx.get(f"{stack.server.base_url}/management/models")
    assert reply.status_code == 401
    # An API key is not a management credential.
    key = create_key(stack.env)
    reply = httpx.get(
        f"{stack.server.base_url}/management/models", headers={"authorization": f"Bearer {key}"}
    )
    assert reply.status_code == 401


@pytest.mark.parametrize("planes", [("filtration",), ("inference",)])
def test_split_mode_private_upstreams_are_one_setting(
    tmp_path: Path, planes: tuple[str, ...]
) -> None:
    """``inference.allow_private_api_upstreams`` is read where models are defined: on the
    filtration process alone it admits a private URL at create and the inference process
    routes to it (once: 201, then 404 to clients); on the inference process alone the
    create is refused, so no model exists that clients cannot reach."""
    fake = FakeUpstream([free_port()]).start()
    try:
        with split_planes(tmp_path, private_upstreams_on=planes) as (
            filtration,
            inference,
            filtration_env,
        ):
            stack = Stack(fake, filtration, filtration_env, tmp_path)
            created = stack.api(
                "POST", "/", json={"name": "private-model", "endpoints": [{"base_url": fake.url()}]}
            )
            if planes == ("inference",):
                assert created.status_code == 422, created.text
                assert created.json()["error"]["param"] == "endpoints[0].base_url"
                # The inference process says its own value is not the one that counts.
                assert "allow_private_api_upstreams is ignored on this process" in (
                    inference.output
                )
                return
            assert created.status_code == 201, created.text
            sdk = client(inference, create_key(filtration_env))
            wait_for(lambda: "private-model" in {m.id for m in sdk.models.list()}, timeout=10)
            reply = sdk.chat.completions.create(
                model="private-model", messages=[{"role": "user", "content": "hi"}]
            )
            assert reply.choices[0].message.content
            assert "is ignored on this process" not in inference.output
    finally:
        fake.stop()


def test_split_mode_reads_models_over_the_internal_port(tmp_path: Path) -> None:
    fake = FakeUpstream([free_port()]).start()
    try:
        with split_planes(tmp_path) as (filtration, inference, filtration_env):
            stack = Stack(fake, filtration, filtration_env, tmp_path)
            created = stack.api(
                "POST",
                "/",
                json={
                    "name": "remote-model",
                    "endpoints": [{"base_url": fake.url("a"), "api_key": UPSTREAM_KEY}],
                },
            )
            assert created.status_code == 201, created.text
            sdk = client(inference, create_key(filtration_env))
            wait_for(lambda: "remote-model" in {m.id for m in sdk.models.list()}, timeout=3)
            sdk.chat.completions.create(
                model="remote-model", messages=[{"role": "user", "content": "hi"}]
            )
            assert fake.requests()[-1]["headers"]["Authorization"] == f"Bearer {UPSTREAM_KEY}"
            # /internal/models needs the internal credential.
            assert httpx.get(f"{filtration.base_url}/internal/models").status_code == 401
    finally:
        fake.stop()
