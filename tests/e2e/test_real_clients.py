"""What real clients and real upstreams do that the fake did not: LiteLLM's usage chunk
with a choice, a legacy stream whose last chunk has no text, the ways servers word "the
prompt is too long", llama.cpp's 500 for a request it cannot handle, ``"stream": null``,
an upstream that streams no usage, browsers (CORS). A real ``inferia serve`` (default
guardrails on), the official openai SDK, a fake upstream behaving as those servers do."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.e2e.fake_upstream import FakeUpstream
from tests.e2e.gateway_fixtures import client, create_key, gateway
from tests.processes import InferiaServer

pytestmark = pytest.mark.e2e

ORIGIN = "https://app.example.com"
MESSAGES: Any = [{"role": "user", "content": "hello"}]


@pytest.fixture(scope="module")
def setup(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[FakeUpstream, InferiaServer, str]]:
    tmp = tmp_path_factory.mktemp("real-clients")
    with gateway(
        tmp,
        1,
        lambda fake: [{"name": "m", "base_url": fake.url("a"), "upstream_model": "up/m-v2"}],
        {"circuit_failure_threshold": 3, "max_retries": 2, "retry_backoff_s": 0.01},
    ) as (fake, server, env):
        yield fake, server, create_key(env)


@pytest.fixture
def fake(setup: tuple[FakeUpstream, InferiaServer, str]) -> Iterator[FakeUpstream]:
    upstream = setup[0]
    upstream.reset()
    yield upstream
    upstream.reset()


@pytest.fixture
def sdk(setup: tuple[FakeUpstream, InferiaServer, str]) -> openai.OpenAI:
    return client(setup[1], setup[2])


def test_usage_chunk_with_an_empty_choice_is_not_sent_unasked(
    fake: FakeUpstream, sdk: openai.OpenAI
) -> None:
    fake.set("a", usage_choices=[{"index": 0, "delta": {}}])
    chunks = list(sdk.chat.completions.create(model="m", messages=MESSAGES, stream=True))
    assert chunks and all(chunk.usage is None for chunk in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_legacy_stream_sends_held_back_words_before_finish(
    fake: FakeUpstream, sdk: openai.OpenAI
) -> None:
    content = "reach me at 555 0100"  # digits: a phone number may still grow
    fake.set("a", final_text=False, content=content, chunks=5)
    chunks = list(sdk.completions.create(model="m", prompt="count", stream=True))
    finish = next(i for i, c in enumerate(chunks) if c.choices and c.choices[0].finish_reason)
    before = "".join(c.choices[0].text or "" for c in chunks[: finish + 1] if c.choices)
    after = "".join(c.choices[0].text or "" for c in chunks[finish + 1 :] if c.choices)
    assert before == content + " " and after == ""


CONTEXT_WORDINGS = {
    "vllm": (400, "Input prompt (5000 tokens) is too long and exceeds limit of 4096", None),
    "llama.cpp": (
        400,
        "the request exceeds the available context size, try increasing it",
        "exceed_context_size_error",
    ),
    "openai": (400, "This model's maximum context length is 8192 tokens.", None),
    "anthropic": (400, "prompt is too long: 210000 tokens > 200000 maximum", None),
    "litellm": (
        400,
        "litellm.ContextWindowExceededError: litellm.BadRequestError: mock overflow",
        None,
    ),
}


@pytest.mark.parametrize("server_kind", sorted(CONTEXT_WORDINGS))
def test_context_window_wordings_are_context_length_exceeded(
    fake: FakeUpstream, sdk: openai.OpenAI, server_kind: str
) -> None:
    status, message, error_type = CONTEXT_WORDINGS[server_kind]
    fake.set(
        "a",
        status=status,
        error_message=message,
        error_code=400 if server_kind in ("llama.cpp", "litellm") else None,
        error_type=error_type or "invalid_request_error",
    )
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.chat.completions.create(model="m", messages=MESSAGES)
    assert refused.value.code == "context_length_exceeded"


def test_upstream_500_blaming_the_request_is_not_retried_nor_takes_the_model_down(
    fake: FakeUpstream, sdk: openai.OpenAI
) -> None:
    fake.set("a", status=500, error_message="Unsupported tool_choice: required", error_type="")
    for _ in range(2):
        with pytest.raises(openai.BadRequestError) as refused:
            sdk.chat.completions.create(model="m", messages=MESSAGES, tool_choice="required")
        assert "Unsupported tool_choice" in refused.value.message
    assert len(fake.requests()) == 2  # once each, no retries
    fake.set("a", status=200)
    assert sdk.chat.completions.create(model="m", messages=MESSAGES).choices


def test_a_retried_request_counts_once_toward_the_breaker(
    fake: FakeUpstream, sdk: openai.OpenAI
) -> None:
    fake.set("a", status=500, error_message="boom")  # a real failure: retried
    with pytest.raises(openai.InternalServerError):
        sdk.chat.completions.create(model="m", messages=MESSAGES)
    assert len(fake.requests()) == 3  # max_retries = 2 on the one endpoint
    fake.set("a", status=200)
    # Three attempts, one request: the breaker (threshold 3) is still closed.
    assert sdk.chat.completions.create(model="m", messages=MESSAGES).choices


def test_stream_null_is_the_default(
    fake: FakeUpstream, setup: tuple[FakeUpstream, InferiaServer, str]
) -> None:
    _, server, key = setup
    reply = httpx.post(
        f"{server.base_url}/v1/chat/completions",
        json={"model": "m", "messages": MESSAGES, "stream": None, "stream_options": None},
        headers={"authorization": f"Bearer {key}"},
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["choices"][0]["message"]["content"]
    assert "stream" not in fake.requests()[0]["body"]


def test_include_usage_gets_a_usage_chunk_when_the_upstream_sends_none(
    fake: FakeUpstream, sdk: openai.OpenAI
) -> None:
    fake.set("a", usage=False)
    chunks = list(
        sdk.chat.completions.create(
            model="m", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
    )
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert last.usage.prompt_tokens > 0 and last.usage.completion_tokens > 0
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
    assert last.id == chunks[0].id and last.model == chunks[0].model


def test_replies_name_the_model_the_client_asked_for(
    fake: FakeUpstream, sdk: openai.OpenAI
) -> None:
    raw = sdk.chat.completions.with_raw_response.create(model="m", messages=MESSAGES)
    assert raw.parse().model == "m"
    assert raw.headers["x-inferia-upstream-model"] == "up/m-v2"
    assert fake.requests()[0]["body"]["model"] == "up/m-v2"
    chunks = list(sdk.chat.completions.create(model="m", messages=MESSAGES, stream=True))
    assert chunks and {chunk.model for chunk in chunks} == {"m"}


def test_overhead_of_a_failed_request_excludes_the_upstream_wait(
    fake: FakeUpstream, sdk: openai.OpenAI
) -> None:
    fake.set("a", status=500, error_message="boom", latency_s=0.4)  # 3 attempts: ~1.2 s
    with pytest.raises(openai.InternalServerError) as failed:
        sdk.chat.completions.create(model="m", messages=MESSAGES)
    assert float(failed.value.response.headers["x-inferia-overhead-ms"]) < 300
    fake.set("a", status=200, latency_s=0)
    sdk.chat.completions.create(model="m", messages=MESSAGES)  # the breaker closes again


def preflight(server: InferiaServer, path: str, origin: str) -> httpx.Response:
    return httpx.options(
        f"{server.base_url}{path}",
        headers={
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type",
        },
    )


def test_no_cors_by_default(setup: tuple[FakeUpstream, InferiaServer, str]) -> None:
    answer = preflight(setup[1], "/v1/chat/completions", ORIGIN)
    assert "access-control-allow-origin" not in answer.headers


def test_cors_for_listed_origins_on_v1_only(tmp_path: Path) -> None:
    with gateway(
        tmp_path,
        1,
        lambda fake: [{"name": "m", "base_url": fake.url("a")}],
        INFERIA_SERVER__CORS_ORIGINS=f'["{ORIGIN}"]',
    ) as (_, server, env):
        allowed = preflight(server, "/v1/chat/completions", ORIGIN)
        assert allowed.status_code == 204
        assert allowed.headers["access-control-allow-origin"] == ORIGIN
        assert "authorization" in allowed.headers["access-control-allow-headers"]
        other = preflight(server, "/v1/chat/completions", "https://evil.example")
        assert "access-control-allow-origin" not in other.headers
        # The session API stays same-origin (the refresh cookie's CSRF defence).
        login = preflight(server, "/auth/login", ORIGIN)
        assert "access-control-allow-origin" not in login.headers

        reply = httpx.post(
            f"{server.base_url}/v1/chat/completions",
            json={"model": "m", "messages": MESSAGES},
            headers={"authorization": f"Bearer {create_key(env)}", "origin": ORIGIN},
        )
        assert reply.status_code == 200
        assert reply.headers["access-control-allow-origin"] == ORIGIN
        assert "x-request-id" in reply.headers["access-control-expose-headers"]
