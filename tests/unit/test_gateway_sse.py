"""The SSE relay: event boundaries, usage learned and hidden, transforms, token counting."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inferia.inference.api.sse import SseRelay
from inferia.inference.pipeline import StreamBlocked, Usage
from inferia.inference.tokens import TokenCounter, install_encodings


def chunk(content: str | None = None, usage: Any = "absent", choices: bool = True) -> bytes:
    body: dict[str, Any] = {"object": "chat.completion.chunk", "choices": []}
    if choices:
        body["choices"] = [{"index": 0, "delta": {"content": content}}]
    if usage != "absent":
        body["usage"] = usage
    return b"data: " + json.dumps(body).encode() + b"\n\n"


USAGE = chunk(usage={"prompt_tokens": 5, "completion_tokens": 2}, choices=False)
DONE = b"data: [DONE]\n\n"


def relay_all(relay: SseRelay, pieces: list[bytes]) -> bytes:
    return b"".join(relay.feed(p) for p in pieces) + relay.finish()


def test_forwards_whole_events_only_and_learns_usage() -> None:
    relay = SseRelay(strip_usage=False, collect_text=False, transforms=[])
    stream = chunk("Hel", None) + chunk("lo", None) + USAGE + DONE
    # Cut the bytes at awkward places: the client still only sees whole events.
    pieces = [stream[i : i + 7] for i in range(0, len(stream), 7)]
    out = b""
    for piece in pieces:
        sent = relay.feed(piece)
        assert not sent or sent.endswith(b"\n\n")
        out += sent
    assert out + relay.finish() == stream
    assert relay.usage is not None and (
        relay.usage.prompt_tokens,
        relay.usage.completion_tokens,
    ) == (5, 2)
    assert relay.saw_done


def test_strips_the_usage_chunk_the_client_did_not_ask_for() -> None:
    relay = SseRelay(strip_usage=True, collect_text=False, transforms=[])
    out = relay_all(relay, [chunk("a", None) + USAGE, DONE])
    assert out == chunk("a", None) + DONE
    assert relay.usage is not None and relay.usage.completion_tokens == 2


def test_crlf_and_comments() -> None:
    relay = SseRelay(strip_usage=True, collect_text=True, transforms=[])
    out = relay_all(relay, [b": keep-alive\r\n\r\n", chunk("x").replace(b"\n", b"\r\n"), DONE])
    assert out == b": keep-alive\n\n" + chunk("x") + DONE
    assert relay.text == ["x"]


class Upper:
    def on_chunk(self, c: dict[str, Any]) -> dict[str, Any] | None:
        delta = c["choices"][0]["delta"]
        if delta.get("content") == "hold":
            return None
        if delta.get("content") == "bad":
            raise StreamBlocked("blocked")
        delta["content"] = delta["content"].upper()
        return c

    def on_end(self) -> list[dict[str, Any]]:
        return [{"choices": [{"index": 0, "delta": {"content": "!"}}]}]


def test_transforms_rewrite_hold_back_flush_and_block() -> None:
    relay = SseRelay(strip_usage=True, collect_text=False, transforms=[Upper()])
    out = relay_all(relay, [chunk("ab"), chunk("hold"), USAGE, DONE])
    events = [e for e in out.split(b"\n\n") if e]
    assert json.loads(events[0][6:])["choices"][0]["delta"]["content"] == "AB"
    assert json.loads(events[1][6:])["choices"][0]["delta"]["content"] == "!"
    assert events[2] == b"data: [DONE]"
    assert relay.usage is not None
    blocked = SseRelay(strip_usage=False, collect_text=False, transforms=[Upper()])
    with pytest.raises(StreamBlocked):
        blocked.feed(chunk("bad"))


def test_token_counting_offline(tmp_path: Path) -> None:
    install_encodings(tmp_path)
    counter = TokenCounter()
    assert counter.count("gpt-4o", "hello world") == 2
    assert counter.count("llama", "hello world") == 2
    body = {"messages": [{"role": "user", "content": "hello world"}]}
    assert counter.prompt_tokens("gpt-4o", "chat.completions", body) == 3 + 3 + 2 + 1
    assert counter.prompt_tokens("x", "completions", {"prompt": ["a b", "c"]}) == 3


def test_done_waits_for_a_counted_usage_chunk_when_the_client_asked_and_none_came() -> None:
    relay = SseRelay(strip_usage=False, collect_text=True, transforms=[])
    out = relay_all(relay, [chunk("x"), DONE])
    assert out == chunk("x") and relay.done_held
    closing = relay.closing(Usage(3, 1))
    assert closing.endswith(DONE) and b'"total_tokens":4' in closing
