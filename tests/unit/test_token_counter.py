"""TokenCounter: OpenAI's prompt accounting, with the token counts of texts it saw
remembered by digest (exactly the counts tiktoken gives) and its memory bounded."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import tiktoken

from inferia.inference import tokens
from inferia.inference.tokens import TokenCounter, install_encodings


@pytest.fixture(scope="module")
def encoding(tmp_path_factory: pytest.TempPathFactory) -> tiktoken.Encoding:
    install_encodings(tmp_path_factory.mktemp("tiktoken"))
    return tiktoken.get_encoding("cl100k_base")


def _tokens(encoding: tiktoken.Encoding, text: str) -> int:
    return len(encoding.encode(text, disallowed_special=())) if text else 0


def _chat(encoding: tiktoken.Encoding, messages: list[Any]) -> int:
    """OpenAI's accounting, written out: 3 per message plus its texts and role, 3 more."""
    total = 3
    for message in messages:
        if not isinstance(message, dict):
            continue
        total += 3
        content = message.get("content")
        texts = [content] if isinstance(content, str) else []
        if isinstance(content, list):
            for part in content:
                if isinstance(part, str):
                    texts.append(part)
                elif isinstance(part, dict) and isinstance(part.get("text"), str):
                    texts.append(part["text"])
        total += sum(_tokens(encoding, text) for text in texts)
        role = message.get("role", "")
        total += _tokens(encoding, str(role) if role is not None else "")
    return total


MESSAGES: list[Any] = [
    {"role": "system", "content": "You are terse. <|endoftext|> is plain text here."},
    {"role": "user", "content": [{"type": "text", "text": "Describe"}, "this", {"type": "image"}]},
    {"role": "assistant", "content": None},
    {"role": None, "content": ""},
    {"role": ["not", "a", "string"], "content": 3},
    {"role": "a custom role", "content": "surrogate \ud800 text"},
    {"content": "no role"},
    "not a message",
]


def test_prompt_counts_are_tiktokens_and_stay_so_when_remembered(
    encoding: tiktoken.Encoding,
) -> None:
    counter = TokenCounter()
    expected = _chat(encoding, MESSAGES)
    for _ in range(3):  # counted, then remembered
        assert counter.prompt_tokens(
            "gpt-3.5-turbo", "chat.completions", {"messages": MESSAGES}
        ) == (expected)
    body = {"input": ["one text", "another <|endoftext|>", 7, ""]}
    for _ in range(2):
        assert counter.prompt_tokens("m", "embeddings", body) == sum(
            _tokens(encoding, t) for t in ("one text", "another <|endoftext|>")
        )
        assert counter.prompt_tokens("m", "completions", {"prompt": "hello there"}) == _tokens(
            encoding, "hello there"
        )
    assert counter.prompt_tokens("m", "chat.completions", {"messages": "junk"}) == 3
    assert counter.prompt_tokens("m", "completions", {}) == 0
    assert counter.count("m", "a reply") == _tokens(encoding, "a reply")
    assert counter.count("m", "") == 0


def test_models_use_their_encoding(encoding: tiktoken.Encoding) -> None:
    counter = TokenCounter()
    text = "naïve café ünïcödé 😀 " * 20
    o200k = tiktoken.get_encoding("o200k_base")
    body = {"prompt": text}
    assert counter.prompt_tokens("gpt-4o-mini", "completions", body) == len(
        o200k.encode_ordinary(text)
    )
    assert counter.prompt_tokens("gpt-4", "completions", body) == len(
        encoding.encode_ordinary(text)
    )


def test_the_memo_is_bounded_and_keeps_no_text(
    encoding: tiktoken.Encoding, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tokens, "_MEMO_ENTRIES", 50)
    monkeypatch.setattr(tokens, "_MEMO_MAX_TEXT", 200)
    counter = TokenCounter()
    counts = counter._memo("m").counts
    long_text = "word " * 100  # over _MEMO_MAX_TEXT: counted every time, not remembered
    assert counter.prompt_tokens("m", "completions", {"prompt": long_text}) == _tokens(
        encoding, long_text
    )
    assert not counts
    for i in range(200):
        text = f"prompt number {i}"
        assert counter.prompt_tokens("m", "completions", {"prompt": text}) == _tokens(
            encoding, text
        )
        assert 0 < len(counts) <= 50
        # Digests, not the prompts: no prompt text outlives its request here.
        assert all(isinstance(key, bytes) and len(key) == 16 for key in counts)
        assert _tokens(encoding, text) in counts.values()


@pytest.mark.usefixtures("encoding")  # the encodings installed
@pytest.mark.parametrize("model", ["gpt-4", "gpt-4o"])
def test_chat_roles_are_counted_without_the_memo(model: str) -> None:
    counter = TokenCounter()
    encoding = counter._memo(model).encoding
    roles = ["system", "developer", "user", "assistant", "tool", "function", "", "moderator"]
    messages = [{"role": role, "content": ""} for role in roles]
    expected = 3 + sum(3 + len(encoding.encode_ordinary(role)) for role in roles)
    assert counter.prompt_tokens(model, "chat.completions", {"messages": messages}) == expected
    # The usual roles are known counts; only the unusual one went through the memo.
    assert len(counter._memo(model).counts) == 1


async def test_large_texts_are_counted_off_the_event_loop(encoding: tiktoken.Encoding) -> None:
    """A prompt of megabytes costs tiktoken up to seconds: it is counted in a worker
    thread (tiktoken releases the GIL), so the loop keeps serving other requests."""
    counter = TokenCounter()
    threads: list[int] = []

    def count(model: str, text: str) -> int:
        threads.append(threading.get_ident())
        return counter.count(model, text)

    small = "hello " * 100
    big = "x" * (tokens.OFF_LOOP_SIZE + 1)
    assert await tokens.counted_off_loop(len(small), count, "gpt-4", small) == _tokens(
        encoding, small
    )
    assert await tokens.counted_off_loop(len(big), count, "gpt-4", big) == _tokens(encoding, big)
    loop_thread = threading.get_ident()
    assert threads[0] == loop_thread  # small: inline, no thread hop
    assert threads[1] != loop_thread
