"""Bad input: whatever a client sends, the answer is a 4xx in the error envelope,
never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import BackendPair
from tests.processes import InferiaServer
from tests.security.attack_support import Api, server_env, servers

pytestmark = pytest.mark.e2e

DEPTH = 3000
DEEP_OBJECT = b'{"a":' * DEPTH + b"1" + b"}" * DEPTH
DEEP_ARRAY = b"[" * DEPTH + b"]" * DEPTH


@pytest.fixture(scope="module")
def server(module_pair: BackendPair) -> Iterator[InferiaServer]:
    with servers(server_env(module_pair)) as (running,):
        yield running


def assert_client_error(reply: httpx.Response, *statuses: int) -> None:
    assert reply.status_code in statuses, (reply.status_code, reply.text[:300])
    error = reply.json()["error"]
    assert error["message"] and error["type"] == "invalid_request_error", error


@pytest.mark.parametrize("body", [DEEP_OBJECT, DEEP_ARRAY], ids=["object", "array"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/management/policies"),
        ("PUT", "/management/guardrails/some-model"),
        ("POST", "/management/api-keys"),
        ("POST", "/auth/login"),  # no access token needed to send it
    ],
)
def test_deeply_nested_json_is_refused(
    server: InferiaServer, method: str, path: str, body: bytes
) -> None:
    admin = Api.login(server)
    reply = httpx.request(
        method,
        f"{server.base_url}{path}",
        content=body,
        headers={**admin.headers, "content-type": "application/json"},
    )
    assert_client_error(reply, 400)


@pytest.mark.parametrize("cursor", ["9" * 30, str(2**63)], ids=["30 digits", "2**63"])
def test_an_out_of_range_audit_cursor_is_refused(server: InferiaServer, cursor: str) -> None:
    reply = Api.login(server).get("/audit/logs", cursor=cursor)
    assert_client_error(reply, 400, 422)
