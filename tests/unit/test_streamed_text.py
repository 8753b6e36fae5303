"""StreamedText: the stream transform that records what a stream said, for the
admission settle of cancelled streams and for inference logs."""

from __future__ import annotations

from inferia.inference.pipeline import StreamedText


def test_records_chat_deltas_and_completion_text_and_leaves_chunks_alone() -> None:
    parts: list[str] = []
    recorder = StreamedText(parts)
    chunks = [
        {"choices": [{"delta": {"role": "assistant"}}]},
        {"choices": [{"delta": {"content": "Hel"}}, {"delta": {"content": "lo"}}]},
        {"choices": [{"text": " world", "delta": {"content": None}}]},
        {"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2}},
        {"choices": ["not a dict", {"delta": "nor this"}]},
    ]
    for chunk in chunks:
        assert recorder.on_chunk(chunk) is chunk
    assert parts == ["Hel", "lo", " world"]
    assert recorder.on_end() == []
