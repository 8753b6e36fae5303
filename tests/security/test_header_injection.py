"""Header injection: an endpoint's ``headers`` cannot break or re-target the requests the
gateway sends on connections other tenants share, nor replace its credential.

Attacks on a real ``inferia serve``: through the management API (refused with 422,
nothing stored) and through inferia.toml (start-up refused, naming the key).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.e2e.fake_upstream import FakeUpstream
from tests.e2e.gateway_fixtures import client, create_key
from tests.processes import inferia_env, run_cli, wait_until
from tests.security.attack_support import Api

pytestmark = pytest.mark.e2e

HOSTILE_HEADERS = [
    {"X-Note": "a\r\nX-Injected: 1"},
    {"X-Note": "a\nb"},
    {"X-Note": "nul\x00"},
    {"X-Bad Name": "1"},
    {"X-Bad:Name": "1"},
    {"X-Note\r\nX-Injected": "1"},
    {"Content-Length": "2"},
    {"content-length": "2"},
    {"Transfer-Encoding": "chunked"},
    {"Host": "internal.example"},
    {"Authorization": "Bearer someone-elses"},
    {"Connection": "close"},
    {"Keep-Alive": "timeout=1"},
    {"Upgrade": "h2c"},
    {"TE": "trailers"},
    {"Trailer": "x"},
    {"Proxy-Authorization": "Basic eDp5"},
    {"X-Note": "é"},
    {"X-Long": "v" * 5000},
    {f"X-H{i}": "1" for i in range(40)},
]


@pytest.fixture(scope="module")
def gateway(api_gateway: dict[str, Any]) -> dict[str, Any]:
    return api_gateway


@pytest.mark.parametrize("headers", HOSTILE_HEADERS, ids=range(len(HOSTILE_HEADERS)))
def test_hostile_endpoint_headers_are_refused_by_the_api(
    gateway: dict[str, Any], headers: dict[str, str]
) -> None:
    admin = Api.login(gateway["server"])
    endpoint = {"base_url": gateway["fake"].url("a"), "headers": headers}
    created = admin.post("/management/models", {"name": "hostile", "endpoints": [endpoint]})
    assert created.status_code == 422, created.text
    assert created.json()["error"]["param"] == "endpoints[0].headers"
    assert all(m["name"] != "hostile" for m in admin.get("/management/models").json()["data"])
    # The same on an update of an existing model.
    good = {"base_url": gateway["fake"].url("a"), "headers": {"X-Route": "blue"}}
    made = admin.post("/management/models", {"name": f"ok-{id(headers)}", "endpoints": [good]})
    assert made.status_code == 201, made.text
    patched = admin.request(
        "PATCH", f"/management/models/{made.json()['id']}", json={"endpoints": [endpoint]}
    )
    assert patched.status_code == 422, patched.text
    admin.request("DELETE", f"/management/models/{made.json()['id']}")


def test_allowed_endpoint_headers_reach_the_upstream_and_ours_stay(
    gateway: dict[str, Any],
) -> None:
    fake: FakeUpstream = gateway["fake"]
    admin = Api.login(gateway["server"])
    endpoint = {
        "base_url": fake.url("a"),
        "api_key": "upstream-secret",
        "headers": {"X-Route": "blue", "User-Agent": "custom"},
    }
    made = admin.post("/management/models", {"name": "routed", "endpoints": [endpoint]})
    assert made.status_code == 201, made.text
    fake.reset()
    key = create_key(gateway["env"])
    sdk = client(gateway["server"], key)
    # The routing table follows the change within a moment.
    wait_until(lambda: _answers(sdk, "routed"))
    seen = {k.lower(): v for k, v in fake.requests()[-1]["headers"].items()}
    assert seen["x-route"] == "blue"
    assert seen["user-agent"] == "custom"
    assert seen["authorization"] == "Bearer upstream-secret"
    assert int(seen["content-length"]) > 2


@pytest.mark.parametrize(
    "headers",
    [{"Content-Length": "2"}, {"Host": "internal"}, {"X-Note": "a\r\nb"}],
    ids=["content-length", "host", "crlf"],
)
def test_hostile_headers_in_the_config_file_stop_start_up(
    tmp_path: Path, headers: dict[str, str]
) -> None:
    # JSON strings are TOML basic strings (escapes included) for these values.
    inline = ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in headers.items())
    config = tmp_path / "inferia.toml"
    config.write_text(
        f'[[models]]\nname = "m"\nbase_url = "http://127.0.0.1:9/v1"\nheaders = {{{inline}}}\n'
    )
    env = inferia_env(tmp_path / "data", INFERIA_CONFIG=str(config))
    result = run_cli(["config", "show"], env)
    assert result.returncode != 0
    assert "models[0]" in result.stderr and "header" in result.stderr, result.stderr


def _answers(sdk: openai.OpenAI, model: str) -> bool:
    try:
        sdk.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    except openai.NotFoundError:
        return False
    return True


def test_an_api_key_that_would_break_the_authorization_line_is_refused(
    gateway: dict[str, Any],
) -> None:
    admin = Api.login(gateway["server"])
    for api_key in ("k\r\nX-Injected: 1", "k\nx", "ключ"):
        endpoint = {"base_url": gateway["fake"].url("a"), "api_key": api_key}
        made = admin.post("/management/models", {"name": "crlf-key", "endpoints": [endpoint]})
        assert made.status_code == 422, made.text
        assert made.json()["error"]["param"] == "endpoints[0].api_key"
