"""Secrets at rest and in answers: credentials an endpoint carries outside ``api_key``
(Azure's ``api-key`` header, ``x-api-key``, a ``user:password@`` in the URL) are
write-only: sealed in the database, masked in answers, audit records and config dumps,
and still sent to the upstream. Attacks on a real ``inferia serve``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai
import pytest

from tests.e2e.fake_upstream import FakeUpstream
from tests.e2e.gateway_fixtures import client, create_key
from tests.processes import inferia_env, run_cli, wait_until
from tests.security.attack_support import Api

pytestmark = pytest.mark.e2e

SECRET = "azure-secret-7f3c9d"
USER = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def gateway(api_gateway: dict[str, Any]) -> dict[str, Any]:
    return api_gateway


def _stored_bytes(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in data_dir.glob("inferia.sqlite3*"))


def _upstream_saw(fake: FakeUpstream) -> dict[str, str]:
    return {k.lower(): v for k, v in fake.requests()[-1]["headers"].items()}


def test_credential_headers_are_write_only(gateway: dict[str, Any]) -> None:
    fake: FakeUpstream = gateway["fake"]
    admin = Api.login(gateway["server"])
    endpoint = {"base_url": fake.url("a"), "headers": {"api-key": SECRET, "X-Route": "blue"}}
    made = admin.post("/management/models", {"name": "azure", "endpoints": [endpoint]})
    assert made.status_code == 201, made.text
    assert SECRET not in made.text
    shown = admin.get(f"/management/models/{made.json()['id']}").json()
    assert shown["endpoints"][0]["headers"] == {"api-key": "********", "X-Route": "blue"}
    assert SECRET not in admin.get("/management/models").text
    assert SECRET not in admin.get("/audit/logs").text
    assert SECRET.encode() not in _stored_bytes(gateway["data"])
    # The upstream gets it all the same.
    sdk = client(gateway["server"], create_key(gateway["env"]))
    wait_until(lambda: _answers(sdk))
    assert _upstream_saw(fake)["api-key"] == SECRET
    # Sending the mask back keeps the stored value (a GET-edit-PUT round trip).
    masked = {"base_url": fake.url("a"), "headers": {"api-key": "********", "X-Route": "green"}}
    changed = admin.request(
        "PATCH", f"/management/models/{made.json()['id']}", json={"endpoints": [masked]}
    )
    assert changed.status_code == 200, changed.text
    wait_until(lambda: _answers(sdk) and _upstream_saw(fake).get("x-route") == "green")
    assert _upstream_saw(fake)["api-key"] == SECRET
    # A mask with nothing behind it is refused, not sent as "********".
    fresh = {"base_url": fake.url("a"), "headers": {"x-api-key": "********"}}
    refused = admin.post("/management/models", {"name": "nothing", "endpoints": [fresh]})
    assert refused.status_code == 422, refused.text


def _answers(sdk: Any) -> bool:
    try:
        sdk.chat.completions.create(model="azure", messages=USER)
    except openai.APIError:  # not routed yet
        return False
    return True


@pytest.mark.parametrize(
    "base_url",
    ["http://user:{p}@127.0.0.1:{port}/v1", "http://{p}@127.0.0.1:{port}/v1"],
    ids=["user and password", "token as user"],
)
def test_credentials_in_an_upstream_url_are_refused(gateway: dict[str, Any], base_url: str) -> None:
    fake: FakeUpstream = gateway["fake"]
    port = fake.url("a").split(":")[2].split("/")[0]
    url = base_url.format(p=SECRET, port=port)
    admin = Api.login(gateway["server"])
    made = admin.post("/management/models", {"name": "userinfo", "endpoints": [{"base_url": url}]})
    assert made.status_code == 422, made.text
    assert made.json()["error"]["param"] == "endpoints[0].base_url"
    assert SECRET not in made.text
    assert SECRET not in admin.get("/audit/logs").text


def test_config_show_masks_credential_headers_and_url_passwords(tmp_path: Path) -> None:
    config = tmp_path / "inferia.toml"
    config.write_text(
        "[[models]]\n"
        'name = "m"\n'
        f'base_url = "https://user:{SECRET}@example.com/v1"\n'
        f'headers = {{ "x-api-key" = "{SECRET}", "X-Route" = "blue" }}\n'
    )
    shown = run_cli(["config", "show"], inferia_env(tmp_path / "data", INFERIA_CONFIG=str(config)))
    assert shown.returncode == 0, shown.stderr
    assert SECRET not in shown.stdout and "blue" in shown.stdout
