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


@pytest.fixture(scope="module")
def key(server: InferiaServer) -> str:
    created: str = Api.login(server).create_key()["key"]
    return created


@pytest.mark.parametrize("body", [DEEP_OBJECT, DEEP_ARRAY], ids=["object", "array"])
@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/completions", "/v1/embeddings"])
def test_deeply_nested_json_on_v1_is_a_400_in_the_openai_envelope(
    server: InferiaServer, key: str, path: str, body: bytes
) -> None:
    # Deep at the top, and (less deep, so it decodes) where the gateway keeps walking it:
    # in a message's content, and in a field it passes through to the upstream.
    medium = b"[" * 900 + b"]" * 900
    contents = [
        body,
        b'{"model":"m","messages":[{"role":"user","content":' + medium + b"}]}",
        b'{"model":"m","input":"x","prompt":"x","messages":[],"extra":' + medium + b"}",
    ]
    for content in contents:
        reply = httpx.post(
            f"{server.base_url}{path}",
            content=content,
            headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
        )
        if content is contents[2]:
            # Passed through to the upstream: decoded fine; this server has no model m.
            assert reply.status_code in (400, 404), reply.text[:300]
            assert reply.json()["error"]["message"]
        else:
            assert_client_error(reply, 400)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/models"),
        ("POST", "/v1/chat/completions"),
        ("GET", "/health"),
        ("GET", "/management/models"),
        ("GET", "/audit/logs"),
    ],
)
def test_a_raw_utf8_byte_in_the_query_string_is_a_4xx(
    server: InferiaServer, key: str, method: str, path: str
) -> None:
    """httpx would percent-encode it: the request line is written by hand."""
    import socket

    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        body = b'{"model":"m","messages":[{"role":"user","content":"hi"}]}'
        sock.sendall(
            method.encode()
            + b" "
            + path.encode()
            + b"?q=\xc3\xa9&x=\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            + f"authorization: Bearer {key}\r\ncontent-type: application/json\r\n".encode()
            + f"content-length: {len(body) if method == 'POST' else 0}\r\n\r\n".encode()
            + (body if method == "POST" else b"")
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    # Accepted (the byte is just data) or refused as a client error; never a 500.
    assert status < 500, answer[:500]
