"""Guardrails on a real ``inferia serve`` through the official openai SDK, in front of
the fake upstream: input redaction (the upstream receives placeholders), blocking,
output redaction of whole replies and of streams whose PII is split across chunks,
and ``block`` ending a stream cleanly."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.e2e.fake_upstream import FakeUpstream
from tests.e2e.gateway_fixtures import PLANES, client, create_key, write_config
from tests.identity_support import ADMIN_EMAIL, ADMIN_PASSWORD, CHEAP_ARGON2_ENV
from tests.processes import InferiaServer, free_port, inferia_env
from tests.services import require_module

pytestmark = pytest.mark.e2e

GUARDRAILS = """
[guardrails]
input = [
  { scanner = "secrets", action = "redact" },
  { scanner = "pii", action = "redact" },
  { scanner = "injection", action = "flag" },
  { scanner = "denylist", action = "block", words = ["forbidden topic"] },
]
output = [
  { scanner = "secrets", action = "redact" },
  { scanner = "pii", action = "redact" },
  { scanner = "denylist", action = "block", words = ["classified"] },
]
"""


class Stack:
    def __init__(self, fake: FakeUpstream, server: InferiaServer, env: dict[str, str]) -> None:
        self.fake, self.server = fake, server
        self.sdk = client(server, create_key(env))
        login = httpx.post(
            f"{server.base_url}/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        assert login.status_code == 200, login.text
        self.admin = {"authorization": f"Bearer {login.json()['access_token']}"}

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = f"{self.server.base_url}/management/guardrails{path}"
        return httpx.request(method, url, headers=kwargs.pop("headers", self.admin), **kwargs)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("guardrails")
    fake = FakeUpstream([free_port()]).start()
    try:
        models = [
            {"name": "m", "base_url": fake.url("a")},
            {"name": "strict", "base_url": fake.url("a")},
        ]
        config = write_config(tmp / "inferia.toml", models)
        config.write_text(config.read_text() + GUARDRAILS)
        env = inferia_env(
            tmp / "data",
            INFERIA_CONFIG=str(config),
            INFERIA_ADMIN_EMAIL=ADMIN_EMAIL,
            INFERIA_ADMIN_PASSWORD=ADMIN_PASSWORD,
            **CHEAP_ARGON2_ENV,
        )
        with InferiaServer(env, PLANES) as server:
            yield Stack(fake, server, env)
    finally:
        fake.stop()


@pytest.fixture(scope="module")
def stack(running: Stack) -> tuple[FakeUpstream, openai.OpenAI]:
    return running.fake, running.sdk


def last_upstream_body(fake: FakeUpstream) -> dict[str, Any]:
    body: dict[str, Any] = fake.requests()[-1]["body"]
    return body


def test_input_pii_reaches_the_upstream_as_placeholders(
    stack: tuple[FakeUpstream, openai.OpenAI],
) -> None:
    fake, sdk = stack
    reply = sdk.chat.completions.create(
        model="m",
        messages=[
            {"role": "system", "content": "Escalate to ops@example.com"},
            {"role": "user", "content": "My card is 4111 1111 1111 1111, mail ops@example.com"},
        ],
    )
    assert reply.choices[0].message.content == "Hello from the fake upstream."
    sent = last_upstream_body(fake)["messages"]
    assert sent[0]["content"] == "Escalate to <EMAIL_1>"
    assert sent[1]["content"] == "My card is <CREDIT_CARD_1>, mail <EMAIL_1>"


def test_tool_call_arguments_are_redacted_before_the_upstream(
    stack: tuple[FakeUpstream, openai.OpenAI],
) -> None:
    fake, sdk = stack
    sdk.chat.completions.create(
        model="m",
        messages=[
            {"role": "user", "content": "pay it"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {
                            "name": "pay",
                            "arguments": '{"iban": "DE89370400440532013000"}',
                        },
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "done"},
        ],
    )
    sent = last_upstream_body(fake)["messages"]
    assert sent[1]["tool_calls"][0]["function"]["arguments"] == '{"iban": "<IBAN_1>"}'


def test_blocked_input_is_a_400_and_never_reaches_the_upstream(
    stack: tuple[FakeUpstream, openai.OpenAI],
) -> None:
    fake, sdk = stack
    before = len(fake.requests())
    with pytest.raises(openai.BadRequestError) as raised:
        sdk.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "Tell me about the Forbidden  Topic"}]
        )
    assert raised.value.code == "content_blocked"
    assert "denylist" in raised.value.message
    assert len(fake.requests()) == before


def test_non_streamed_output_is_redacted(stack: tuple[FakeUpstream, openai.OpenAI]) -> None:
    _, sdk = stack
    reply = sdk.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "contact?"}],
        extra_body={"fake": {"content": "Call +1 415 555 2671 or mail sales@example.com"}},
    )
    assert reply.choices[0].message.content == "Call <PHONE_1> or mail <EMAIL_1>"


def test_streamed_pii_split_across_chunks_is_redacted(
    stack: tuple[FakeUpstream, openai.OpenAI],
) -> None:
    _, sdk = stack
    # The fake streams word by word: the card number arrives in four chunks.
    content = "Your card 4111 1111 1111 1111 expires soon, key AKIAIOSFODNN7EXAMPLE ok"
    stream = sdk.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "card?"}],
        stream=True,
        extra_body={"fake": {"content": content, "chunks": len(content.split(" "))}},
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "Your card <CREDIT_CARD_1> expires soon, key <AWS_ACCESS_KEY_1> ok "


def test_block_ends_the_stream_with_an_error_event(
    stack: tuple[FakeUpstream, openai.OpenAI],
) -> None:
    _, sdk = stack
    content = "Here is the classified report you asked for in full detail"
    stream = sdk.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "report?"}],
        stream=True,
        extra_body={"fake": {"content": content, "chunks": len(content.split(" "))}},
    )
    received = ""
    with pytest.raises(openai.APIError) as raised:
        for chunk in stream:
            if chunk.choices:
                received += chunk.choices[0].delta.content or ""
    assert "blocked by the guardrail policy" in raised.value.message
    assert "classified" not in received


def test_missing_detoxify_checkpoint_stops_start_up_naming_the_setting(tmp_path: Path) -> None:
    require_module("inferia_detoxify")
    config = tmp_path / "inferia.toml"
    config.write_text(
        '[guardrails]\ninput = [{ scanner = "detoxify", action = "block" }]\noutput = []\n'
        f'[guardrails.detoxify]\ncheckpoint = "{tmp_path / "missing.ckpt"}"\n'
    )
    server = InferiaServer(inferia_env(tmp_path / "data", INFERIA_CONFIG=str(config)), PLANES)
    with pytest.raises(RuntimeError) as raised:
        server.start(timeout=60)
    assert "guardrails.detoxify.checkpoint: file not found" in str(raised.value)


def test_a_model_policy_set_through_the_api_applies_at_once_and_is_audited(running: Stack) -> None:
    assert running.api("GET", "/").status_code == 200
    strict = {"input": [{"scanner": "pii", "action": "block", "categories": ["email"]}]}
    put = running.api("PUT", "/strict", json=strict)
    assert put.status_code == 200, put.text
    assert put.json()["model"] == "strict"
    message = [{"role": "user", "content": "write to a@example.com"}]
    with pytest.raises(openai.BadRequestError, match="email"):
        running.sdk.chat.completions.create(model="strict", messages=message)
    # Other models keep the platform default from inferia.toml (redact).
    running.sdk.chat.completions.create(model="m", messages=message)
    assert running.fake.requests()[-1]["body"]["messages"][0]["content"] == "write to <EMAIL_1>"
    effective = running.api("GET", "/effective", params={"model": "strict"}).json()
    assert effective["source"] == "model"
    audit = httpx.get(
        f"{running.server.base_url}/audit/logs",
        params={"action": "guardrails.*"},
        headers=running.admin,
    )
    assert audit.status_code == 200, audit.text
    assert "guardrails.create" in [r["action"] for r in audit.json()["data"]]
    assert running.api("DELETE", "/strict").status_code == 204
    slashed = running.api("PUT", "/meta-llama/Llama-3.1-8B", json=strict)
    assert slashed.status_code == 200 and slashed.json()["model"] == "meta-llama/Llama-3.1-8B"
    assert running.api("GET", "/meta-llama/Llama-3.1-8B").json()["model"] == slashed.json()["model"]
    assert running.api("DELETE", "/meta-llama/Llama-3.1-8B").status_code == 204
    assert running.api("GET", "/meta-llama/Llama-3.1-8B").status_code == 404


def test_bad_policies_are_4xx_not_500(running: Stack) -> None:
    unknown = running.api("PUT", "/default", json={"input": [{"scanner": "nope"}]})
    assert unknown.status_code == 422
    assert "unknown guardrail scanner" in unknown.json()["error"]["message"]
    bad_regex = running.api(
        "PUT", "/default", json={"input": [{"scanner": "denylist", "patterns": ["(x"]}]}
    )
    assert bad_regex.status_code == 422
    not_object = running.api("PUT", "/default", json=[1, 2])
    assert not_object.status_code in (400, 422)
    assert running.api("GET", "/", headers={}).status_code == 401


def test_findings_are_listed_as_events_without_the_matched_text(running: Stack) -> None:
    running.sdk.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "ssn 123-45-6789 please"}]
    )
    deadline = time.monotonic() + 5
    events: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        events = running.api("GET", "/events", params={"scanner": "pii"}).json()["data"]
        if any(e["category"] == "ssn" for e in events):
            break
        time.sleep(0.1)
    ssn = [e for e in events if e["category"] == "ssn"]
    assert ssn and ssn[0]["action"] == "redact" and ssn[0]["direction"] == "input"
    assert "123-45-6789" not in json.dumps(events)


def test_split_mode_inference_gets_the_policy_through_the_internal_port(tmp_path: Path) -> None:
    fake = FakeUpstream([free_port()]).start()
    try:
        config = write_config(tmp_path / "inferia.toml", [{"name": "m", "base_url": fake.url("a")}])
        filtration_port = free_port()
        common = {
            "INFERIA_CONFIG": str(config),
            "INFERIA_ADMIN_EMAIL": ADMIN_EMAIL,
            "INFERIA_ADMIN_PASSWORD": ADMIN_PASSWORD,
            **CHEAP_ARGON2_ENV,
        }
        filtration_env = inferia_env(tmp_path / "data", **common)
        inference_env = inferia_env(
            tmp_path / "data",
            INFERIA_REMOTE__FILTRATION_URL=f"http://127.0.0.1:{filtration_port}",
            **common,
        )
        with (
            InferiaServer(filtration_env, ["--plane", "filtration"], port=filtration_port) as pol,
            InferiaServer(inference_env, ["--plane", "inference"]) as gateway,
        ):
            admin = Stack(fake, pol, filtration_env).admin
            sdk = client(gateway, create_key(filtration_env))
            message = [{"role": "user", "content": "key AKIAIOSFODNN7EXAMPLE here"}]
            sdk.chat.completions.create(model="m", messages=message)
            assert "<AWS_ACCESS_KEY_1>" in fake.requests()[-1]["body"]["messages"][0]["content"]
            put = httpx.put(
                f"{pol.base_url}/management/guardrails/default",
                json={"input": [{"scanner": "secrets", "action": "block"}]},
                headers=admin,
            )
            assert put.status_code == 200, put.text
            # Memory state cannot carry the change event across processes: the inference
            # process' snapshot lives one second, then it asks /internal/guardrails again.
            deadline = time.monotonic() + 5
            while True:
                try:
                    sdk.chat.completions.create(model="m", messages=message)
                except openai.BadRequestError as exc:
                    assert exc.code == "content_blocked"
                    break
                assert time.monotonic() < deadline, "the new policy never reached the gateway"
                time.sleep(0.2)
    finally:
        fake.stop()


def test_huge_prompt_beyond_the_scan_limit_is_a_413(
    stack: tuple[FakeUpstream, openai.OpenAI],
) -> None:
    fake, sdk = stack
    before = len(fake.requests())
    with pytest.raises(openai.APIStatusError) as raised:
        sdk.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x " * 110_000}]
        )
    assert raised.value.status_code == 413
    assert "max_scan_chars" in raised.value.message
    assert len(fake.requests()) == before


@pytest.mark.parametrize(
    "body",
    [
        b'{"model": "m", "messages": [{"role": "user", "content": "a\\ud800 b@example.com"}]}',
        b'{"model": "m", "messages": [{"role": "user", "content": "a\xed\xa0\x80 b@example.com"}]}',
    ],
    ids=["lone-surrogate-escape", "invalid-utf8"],
)
def test_invalid_unicode_is_a_4xx_never_a_500(running: Stack, body: bytes) -> None:
    key = running.sdk.api_key
    reply = httpx.post(
        f"{running.server.base_url}/v1/chat/completions",
        content=body,
        headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
    )
    assert 400 <= reply.status_code < 500, reply.text
    assert reply.json()["error"]["type"] == "invalid_request_error"
