"""Streaming: the sliding window and the chunk-level StreamTransform."""

from __future__ import annotations

from typing import Any

import pytest

from inferia.guardrails import BlockedText, Finding, Redactor, StreamWindow
from inferia.inference.guard_steps import GuardStream
from inferia.inference.pipeline import StreamBlocked
from tests.unit.guardrails_support import compiled

TEXT = (
    "Sure. Write to jane.doe@example.com or call +1 415 555 2671; the card is "
    "4111 1111 1111 1111 and the key is ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8. Done."
)
REDACTED = (
    "Sure. Write to <EMAIL_1> or call <PHONE_1>; the card is "
    "<CREDIT_CARD_1> and the key is <GITHUB_TOKEN_1>. Done."
)
DEFAULT_OUTPUT = [
    {"scanner": "secrets", "action": "redact"},
    {"scanner": "pii", "action": "redact"},
]


def window(output: list[dict[str, Any]] | None = None) -> tuple[StreamWindow, list[Finding]]:
    found: list[Finding] = []
    rules = compiled(output=output or DEFAULT_OUTPUT).output
    return StreamWindow(rules, Redactor(), found.append), found


def stream_through(pieces: list[str], output: list[dict[str, Any]] | None = None) -> str:
    w, _ = window(output)
    return "".join(w.push(piece) for piece in pieces) + w.flush()


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 16, 64, 1000])
def test_pii_split_across_chunks_is_redacted_at_any_chunk_size(size: int) -> None:
    pieces = [TEXT[i : i + size] for i in range(0, len(TEXT), size)]
    assert stream_through(pieces) == REDACTED


def test_every_single_split_point_of_an_email_is_caught() -> None:
    text = "mail jane.doe@example.com now"
    for cut in range(1, len(text)):
        assert stream_through([text[:cut], text[cut:]]) == "mail <EMAIL_1> now", cut


def test_window_holds_back_only_what_a_match_could_still_need() -> None:
    w, _ = window()
    # A finished word followed by a space can go out at once; the open word waits.
    assert w.push("Hello wor") == "Hello "
    assert w.pending == 3
    assert w.push("ld, and more") == "world, and "
    # Digits followed by a space may continue as a card or phone number: held.
    w.push("call 415 ")
    assert w.pending >= len("415 ")


def test_window_never_holds_more_than_the_longest_pattern_needs() -> None:
    w, _ = window([{"scanner": "pii", "action": "redact"}])
    w.push("x" * 10_000)
    assert w.pending <= 256


def test_block_in_a_stream_raises_blocked_text_without_releasing_it() -> None:
    w, _ = window([{"scanner": "secrets", "action": "block"}])
    released = w.push("the key is AKIA")
    with pytest.raises(BlockedText) as raised:
        released += w.push("IOSFODNN7EXAMPLE and more") + w.flush()
    assert raised.value.finding.category == "aws_access_key"
    assert "AKIA" not in released


def test_findings_are_recorded_once() -> None:
    w, found = window()
    for char in "a@example.com b@example.com ":
        w.push(char)
    w.flush()
    assert [f.category for f in found] == ["email", "email"]


def chat_chunk(
    content: str | None = None,
    *,
    finish: str | None = None,
    role: bool = False,
    tool_args: str | None = None,
) -> dict[str, Any]:
    delta: dict[str, Any] = {}
    if role:
        delta["role"] = "assistant"
    if content is not None:
        delta["content"] = content
    if tool_args is not None:
        delta["tool_calls"] = [{"index": 0, "function": {"arguments": tool_args}}]
    return {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def transform(
    output: list[dict[str, Any]] | None = None,
) -> tuple[GuardStream, list[dict[str, object]]]:
    records: list[dict[str, object]] = []
    rules = compiled(output=output or DEFAULT_OUTPUT).output
    return (
        GuardStream(rules, Redactor(), lambda f, d, w: records.append(f.record(d, w))),
        records,
    )


def client_text(chunks: list[dict[str, Any] | None], key: str = "content") -> str:
    text = ""
    for chunk in chunks:
        if chunk is None:
            continue
        for choice in chunk["choices"]:
            delta = choice.get("delta", {})
            if key == "content":
                text += delta.get("content") or ""
            else:
                for call in delta.get("tool_calls") or ():
                    text += call["function"].get("arguments") or ""
    return text


def test_stream_transform_redacts_content_split_across_chunks() -> None:
    guard, records = transform()
    pieces = [TEXT[i : i + 4] for i in range(0, len(TEXT), 4)]
    out = [guard.on_chunk(chat_chunk("", role=True))]
    out += [guard.on_chunk(chat_chunk(p)) for p in pieces]
    out.append(guard.on_chunk(chat_chunk(finish="stop")))
    out += guard.on_end()
    assert client_text(out) == REDACTED
    assert out[0] is not None and out[0]["choices"][0]["delta"]["role"] == "assistant"
    assert sorted(r["category"] for r in records) == [
        "credit_card",
        "email",
        "github_token",
        "phone",
    ]
    assert all(r["direction"] == "output" for r in records)


def test_stream_without_finish_reason_is_flushed_by_on_end() -> None:
    guard, _ = transform()
    out = [guard.on_chunk(chat_chunk(p)) for p in ["mail a@exam", "ple.com"]]
    out += guard.on_end()
    assert client_text(out) == "mail <EMAIL_1>"
    assert out[-1] is not None and out[-1]["id"] == "c1"


def test_tool_call_arguments_streamed_in_pieces_are_redacted() -> None:
    guard, _ = transform()
    arguments = '{"to": "jane@example.com", "card": "4111111111111111"}'
    out = [
        guard.on_chunk(chat_chunk(tool_args=arguments[i : i + 3]))
        for i in range(0, len(arguments), 3)
    ]
    out.append(guard.on_chunk(chat_chunk(finish="tool_calls")))
    assert client_text(out, "tool") == '{"to": "<EMAIL_1>", "card": "<CREDIT_CARD_1>"}'


def test_completions_text_stream_is_redacted() -> None:
    guard, _ = transform()
    out = []
    for piece in ["ssn 123-", "45-6789 ok"]:
        out.append(
            guard.on_chunk(
                {
                    "object": "text_completion",
                    "choices": [{"index": 0, "text": piece, "finish_reason": None}],
                }
            )
        )
    out += guard.on_end()
    assert "".join(c["choices"][0]["text"] for c in out if c) == "ssn <SSN_1> ok"


def test_block_ends_the_stream_with_stream_blocked() -> None:
    guard, records = transform(
        [{"scanner": "pii", "action": "block", "categories": ["credit_card"]}]
    )
    guard.on_chunk(chat_chunk("your card: 4111 1111 "))
    with pytest.raises(StreamBlocked) as raised:
        guard.on_chunk(chat_chunk("1111 1111 thanks"))
    assert "credit_card" in raised.value.message
    assert "4111" not in raised.value.message
    assert records[-1]["action"] == "block"


def test_chunks_without_choices_pass_untouched() -> None:
    guard, _ = transform()
    usage = {"id": "c1", "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2}}
    assert guard.on_chunk(usage) is usage
