"""The /v1 API through the official openai SDK: a real ``inferia serve`` in front of a
fake OpenAI-compatible upstream."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.e2e.fake_upstream import FakeUpstream
from tests.e2e.gateway_fixtures import client, create_key, dead_url, gateway
from tests.processes import InferiaServer

pytestmark = pytest.mark.e2e
USER = [{"role": "user", "content": "Say hello"}]


def models(fake: FakeUpstream) -> list[dict[str, Any]]:
    return [
        {
            "name": "m",
            "base_url": fake.url("a"),
            "api_key": "upstream-secret",
            "upstream_model": "served-m",
            "headers": {"x-team": "e2e"},
        },
        {"name": "other", "base_url": fake.url("a")},
        # Error classes: its own endpoint, so its failures never touch "m"'s health.
        {"name": "err", "base_url": fake.url("b")},
        {"name": "slow", "base_url": fake.url("b"), "request_timeout_s": 0.5},
        {"name": "dead", "base_url": dead_url()},
    ]


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[FakeUpstream, InferiaServer, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("gateway")
    settings = {
        "max_retries": 1,
        "retry_backoff_s": 0.01,
        "circuit_failure_threshold": 1000,
        "read_timeout_s": 1.0,
        "max_upstream_response_bytes": 65536,
    }
    with gateway(tmp, 2, models, settings) as running:
        yield running


@pytest.fixture(scope="module")
def fake(stack: tuple[FakeUpstream, InferiaServer, dict[str, str]]) -> FakeUpstream:
    return stack[0]


@pytest.fixture(scope="module")
def server(stack: tuple[FakeUpstream, InferiaServer, dict[str, str]]) -> InferiaServer:
    return stack[1]


@pytest.fixture(scope="module")
def key(stack: tuple[FakeUpstream, InferiaServer, dict[str, str]]) -> str:
    return create_key(stack[2])


@pytest.fixture(scope="module")
def sdk(server: InferiaServer, key: str) -> openai.OpenAI:
    return client(server, key)


def last_request(fake: FakeUpstream, model: str) -> dict[str, Any]:
    return [r for r in fake.requests() if r["body"].get("model") == model][-1]


def test_chat_completion_reaches_the_upstream_as_configured(
    sdk: openai.OpenAI, fake: FakeUpstream
) -> None:
    raw = sdk.chat.completions.with_raw_response.create(
        model="m",
        messages=USER,
        temperature=0.5,
        seed=7,
        stop=["\n"],
        n=1,
        response_format={"type": "json_object"},
        logprobs=True,
        extra_body={"brand_new_parameter": {"nested": [1, 2]}},
    )
    reply = raw.parse()
    assert reply.choices[0].message.content == "Hello from the fake upstream."
    assert reply.usage is not None and reply.usage.total_tokens == 18
    overhead = float(raw.headers["x-inferia-overhead-ms"])
    assert 0 <= overhead < 50
    seen = last_request(fake, "served-m")
    assert seen["path"] == "/v1/chat/completions"
    # The upstream's own key and headers, never the client's Inferia key.
    assert seen["headers"]["Authorization"] == "Bearer upstream-secret"
    assert seen["headers"]["x-team"] == "e2e"
    body = seen["body"]
    assert body["messages"] == USER
    assert body["brand_new_parameter"] == {"nested": [1, 2]}  # unknown fields forwarded
    assert (body["seed"], body["stop"], body["logprobs"]) == (7, ["\n"], True)
    assert body["response_format"] == {"type": "json_object"}
    assert "stream_options" not in body


def test_tools_round_trip(sdk: openai.OpenAI, fake: FakeUpstream) -> None:
    tools: Any = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    reply = sdk.chat.completions.create(model="m", messages=USER, tools=tools, tool_choice="auto")
    call = reply.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == {"city": "Paris"}  # type: ignore[union-attr]
    assert last_request(fake, "served-m")["body"]["tools"] == tools


def test_stream_relays_chunks_and_hides_the_usage_it_asked_for(
    sdk: openai.OpenAI, fake: FakeUpstream
) -> None:
    chunks = list(sdk.chat.completions.create(model="m", messages=USER, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip() == "Hello from the fake upstream."
    assert all(c.usage is None for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"
    # Inferia asked the upstream for usage so it always learns the token counts.
    assert last_request(fake, "served-m")["body"]["stream_options"] == {"include_usage": True}


def test_stream_with_usage_requested_by_the_client(sdk: openai.OpenAI) -> None:
    chunks = list(
        sdk.chat.completions.create(
            model="m", messages=USER, stream=True, stream_options={"include_usage": True}
        )
    )
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens == 11


def test_stream_is_relayed_chunk_by_chunk(sdk: openai.OpenAI) -> None:
    started = time.monotonic()
    stream = sdk.chat.completions.create(
        model="m",
        messages=USER,
        stream=True,
        extra_body={"fake": {"chunks": 4, "chunk_delay_s": 0.3}},
    )
    arrivals = [time.monotonic() - started for _ in stream]
    # The first chunk arrives long before the upstream finished (4 x 0.3 s).
    assert arrivals[0] < 0.25, arrivals
    assert arrivals[-1] > 1.0


def test_completions_and_embeddings(sdk: openai.OpenAI, fake: FakeUpstream) -> None:
    completion = sdk.completions.create(model="m", prompt="Once upon", max_tokens=5)
    assert completion.choices[0].text == "Hello from the fake upstream."
    streamed = list(sdk.completions.create(model="m", prompt="Once upon", stream=True))
    assert "".join(c.choices[0].text for c in streamed if c.choices).strip()
    embedding = sdk.embeddings.create(model="m", input=["a", "b"])
    assert [e.index for e in embedding.data] == [0, 1]
    assert embedding.data[0].embedding == [0.1, 0.2, 0.3]
    assert last_request(fake, "served-m")["path"] == "/v1/embeddings"


def test_models_are_filtered_by_key(
    server: InferiaServer,
    stack: tuple[FakeUpstream, InferiaServer, dict[str, str]],
    sdk: openai.OpenAI,
) -> None:
    everything = {m.id for m in sdk.models.list()}
    assert everything == {"m", "other", "err", "slow", "dead"}
    limited = client(server, create_key(stack[2], "m"))
    assert [m.id for m in limited.models.list()] == ["m"]
    assert limited.models.retrieve("m").id == "m"
    with pytest.raises(openai.NotFoundError):
        limited.models.retrieve("other")
    with pytest.raises(openai.PermissionDeniedError) as denied:
        limited.chat.completions.create(model="other", messages=USER)
    assert denied.value.body["param"] == "model"  # type: ignore[index]
    with pytest.raises(openai.NotFoundError):
        sdk.chat.completions.create(model="no-such-model", messages=USER)


def test_a_bad_key_is_an_authentication_error(server: InferiaServer) -> None:
    with pytest.raises(openai.AuthenticationError):
        client(server, "sk-inf-" + "x" * 56).chat.completions.create(model="m", messages=USER)


@pytest.mark.parametrize(
    ("behaviour", "exception", "status"),
    [
        ({"status": 429}, openai.RateLimitError, 429),
        ({"status": 500}, openai.InternalServerError, 502),
        ({"status": 503}, openai.InternalServerError, 503),
        ({"status": 401}, openai.InternalServerError, 502),
        ({"status": 400, "error_message": "bad stop"}, openai.BadRequestError, 400),
        ({"malformed": True}, openai.InternalServerError, 502),
        # A reply over max_upstream_response_bytes is refused, not buffered.
        ({"content": "x" * 70_000}, openai.InternalServerError, 502),
    ],
)
def test_upstream_errors_arrive_as_the_sdks_exceptions(
    sdk: openai.OpenAI, behaviour: dict[str, Any], exception: type[Exception], status: int
) -> None:
    with pytest.raises(exception) as raised:  # type: ignore[var-annotated]
        sdk.chat.completions.create(model="err", messages=USER, extra_body={"fake": behaviour})
    assert raised.value.status_code == status  # type: ignore[attr-defined]
    error = raised.value.body  # type: ignore[attr-defined]
    assert set(error) >= {"message", "type", "code"}
    assert "upstream-secret" not in json.dumps(error)


def test_timeout_and_unreachable_upstreams(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as timed_out:
        sdk.chat.completions.create(
            model="slow", messages=USER, extra_body={"fake": {"latency_s": 3}}
        )
    assert timed_out.value.status_code == 504
    with pytest.raises(openai.InternalServerError) as unreachable:
        sdk.chat.completions.create(model="dead", messages=USER)
    assert unreachable.value.status_code == 502


def test_upstream_retried_only_before_the_first_byte(
    sdk: openai.OpenAI, fake: FakeUpstream
) -> None:
    before = len([r for r in fake.requests() if r["body"].get("model") == "err"])
    with pytest.raises(openai.InternalServerError):
        sdk.chat.completions.create(
            model="err", messages=USER, extra_body={"fake": {"status": 503}}
        )
    after = [r for r in fake.requests() if r["body"].get("model") == "err"]
    assert len(after) - before == 2  # the first attempt + max_retries = 1
    # A stream that fails after it started is not retried: the client gets an error event.
    before = len(after)
    stream = sdk.chat.completions.create(
        model="err",
        messages=USER,
        stream=True,
        extra_body={"fake": {"chunks": 5, "fail_after_chunks": 2}},
    )
    received = []
    with pytest.raises(openai.APIError) as failed:
        for chunk in stream:
            received.append(chunk)
    assert len(received) == 2
    assert "stream" in failed.value.message
    assert len([r for r in fake.requests() if r["body"].get("model") == "err"]) - before == 1


def test_malformed_and_truncated_streams_end_with_an_error_event(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.APIError):
        list(
            sdk.chat.completions.create(
                model="err", messages=USER, stream=True, extra_body={"fake": {"omit_done": True}}
            )
        )
    with pytest.raises(openai.APIStatusError):
        list(
            sdk.chat.completions.create(
                model="err", messages=USER, stream=True, extra_body={"fake": {"status": 500}}
            )
        )


def test_hanging_upstreams_end_cleanly(sdk: openai.OpenAI) -> None:
    # Silent before the first byte: a 504 (after read_timeout_s = 1).
    with pytest.raises(openai.InternalServerError) as silent:
        list(
            sdk.chat.completions.create(
                model="err", messages=USER, stream=True, extra_body={"fake": {"hang": True}}
            )
        )
    assert silent.value.status_code == 504
    # Silent in the middle of a stream: an in-stream error event after what was relayed.
    stream = sdk.chat.completions.create(
        model="err",
        messages=USER,
        stream=True,
        extra_body={"fake": {"chunks": 3, "chunk_delay_s": 5}},
    )
    received = []
    with pytest.raises(openai.APIError) as failed:
        for chunk in stream:
            received.append(chunk)
    assert len(received) == 1
    assert "silent" in failed.value.message


def test_client_disconnect_cancels_the_upstream_within_100ms(
    sdk: openai.OpenAI, fake: FakeUpstream
) -> None:
    stream = sdk.chat.completions.create(
        model="other",
        messages=USER,
        stream=True,
        extra_body={"fake": {"chunks": 200, "chunk_delay_s": 0.05}},
    )
    for index, _ in enumerate(stream):
        if index == 2:
            break
    closed_at = time.time()
    stream.close()
    deadline = time.monotonic() + 3
    record: dict[str, Any] = {}
    while time.monotonic() < deadline:
        record = last_request(fake, "other")
        if record["disconnected_at"]:
            break
        time.sleep(0.01)
    assert record["disconnected_at"], "the upstream never saw the disconnect"
    assert not record["completed"]
    assert record["disconnected_at"] - closed_at < 0.1


def test_client_disconnect_cancels_a_non_streamed_request(
    server: InferiaServer, key: str, fake: FakeUpstream
) -> None:
    impatient = client(server, key, timeout=0.3)
    with pytest.raises(openai.APITimeoutError):
        impatient.chat.completions.create(
            model="other", messages=USER, extra_body={"fake": {"latency_s": 5}}
        )
    gave_up = time.time()
    time.sleep(0.2)
    record = last_request(fake, "other")
    assert record["disconnected_at"] and record["disconnected_at"] - gave_up < 0.15


# -- bad input: always the OpenAI envelope with the right 4xx, never a 500 --------------


def post(server: InferiaServer, key: str | None, body: bytes, **headers: str) -> httpx.Response:
    all_headers = {"content-type": "application/json", **headers}
    if key is not None:
        all_headers["authorization"] = f"Bearer {key}"
    return httpx.post(f"{server.base_url}/v1/chat/completions", content=body, headers=all_headers)


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        (b"{not json", 400, None),
        (b'{"model": "m", "messages": [{"role": "user", "content": "\xff\xfe"}]}', 400, None),
        (b"[1, 2]", 400, None),
        (b'{"model": 5, "messages": []}', 400, "model"),
        (b'{"model": "m", "messages": []}', 400, "messages"),
        (b'{"model": "m", "messages": "hi"}', 400, "messages"),
        (b'{"model": "m", "messages": [{"content": "x"}]}', 400, "messages[0].role"),
        (b'{"messages": [{"role": "user", "content": "x"}]}', 400, "model"),
        (b'{"model": "m", "messages": [{"role": "user"}], "max_tokens": -1}', 400, "max_tokens"),
        (
            b'{"model": "m", "messages": [{"role": "user"}], "max_tokens": 10000000000}',
            400,
            "max_tokens",
        ),
        (
            b'{"model": "m", "messages": [{"role": "user"}], "temperature": "hot"}',
            400,
            "temperature",
        ),
        (b'{"model": "m", "messages": [{"role": "user"}], "stream": "yes"}', 400, "stream"),
        (b'{"model": "nope", "messages": [{"role": "user"}]}', 404, "model"),
    ],
)
def test_bad_bodies(
    server: InferiaServer, key: str, body: bytes, status: int, param: str | None
) -> None:
    reply = post(server, key, body)
    assert reply.status_code == status, reply.text
    error = reply.json()["error"]
    assert error["param"] == param
    assert error["message"] and error["type"] in ("invalid_request_error", "not_found_error")


def test_oversized_body_is_413(server: InferiaServer, key: str) -> None:
    big = (
        b'{"model": "m", "messages": [{"role": "user", "content": "'
        + b"x" * (5 * 1024 * 1024)
        + b'"}]}'
    )
    reply = post(server, key, big)
    assert reply.status_code == 413
    assert reply.json()["error"]["type"] == "invalid_request_error"


def test_chunked_bodies_are_held_to_the_same_limit(server: InferiaServer, key: str) -> None:
    """Without a content-length the body is counted as it arrives (chunked upload)."""
    head = b'{"model": "m", "messages": [{"role": "user", "content": "'

    def chunks(size: int) -> Iterator[bytes]:
        yield head
        for _ in range(size // 65536):
            yield b"x" * 65536
        yield b'"}]}'

    url = f"{server.base_url}/v1/chat/completions"
    headers = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    too_big = httpx.post(url, content=chunks(5 * 1024 * 1024), headers=headers)
    assert too_big.status_code == 413
    assert too_big.json()["error"]["type"] == "invalid_request_error"
    # Under the limit, the same kind of upload is served.
    fits = httpx.post(url, content=chunks(65536), headers=headers)
    assert fits.status_code == 200, fits.text


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Basic abc", "Bearer sk-inf-nope"])
def test_missing_or_malformed_authorization(
    server: InferiaServer, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"authorization": authorization}
    reply = httpx.post(
        f"{server.base_url}/v1/chat/completions",
        json={"model": "m", "messages": USER},
        headers=headers,
    )
    assert reply.status_code == 401
    assert reply.json()["error"]["type"] == "authentication_error"


def test_only_post_on_post_endpoints(server: InferiaServer, key: str) -> None:
    reply = httpx.get(
        f"{server.base_url}/v1/chat/completions", headers={"authorization": f"Bearer {key}"}
    )
    assert reply.status_code == 405
    assert reply.json()["error"]["code"] == "method_not_allowed"


def test_embeddings_bad_input(server: InferiaServer, key: str) -> None:
    reply = httpx.post(
        f"{server.base_url}/v1/embeddings",
        json={"model": "m", "input": []},
        headers={"authorization": f"Bearer {key}"},
    )
    assert reply.status_code == 400 and reply.json()["error"]["param"] == "input"


def test_request_ids_on_every_v1_answer(server: InferiaServer, key: str) -> None:
    """The /v1 POST endpoints are served outside Litestar: they set x-request-id
    themselves, on successes and on errors, and accept a trailing slash."""
    auth = {"authorization": f"Bearer {key}"}
    body = {"model": "m", "messages": USER}
    url = f"{server.base_url}/v1/chat/completions"
    mine = httpx.post(url, json=body, headers={**auth, "x-request-id": "req-7"})
    assert mine.status_code == 200 and mine.headers["x-request-id"] == "req-7"
    generated = httpx.post(f"{url}/", json=body, headers=auth)
    assert generated.status_code == 200
    assert len(generated.headers["x-request-id"]) == 24
    assert (
        generated.headers["x-request-id"]
        != httpx.post(url, json=body, headers=auth).headers["x-request-id"]
    )
    refused = httpx.post(url, json=body, headers={"x-request-id": "a b"})
    assert refused.status_code == 401
    assert refused.headers["x-request-id"] not in ("", "a b")
    with httpx.stream("POST", url, json={**body, "stream": True}, headers=auth) as stream:
        assert stream.headers["x-request-id"]
        assert b"[DONE]" in b"".join(stream.iter_bytes())
