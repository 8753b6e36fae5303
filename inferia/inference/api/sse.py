"""Relaying an upstream SSE stream: event by event, learning usage on the way.

The upstream's bytes are cut at event boundaries and forwarded as they arrive (a
partial event waits for its end, nothing else waits). Three paths, cheapest first:

- no stream transforms: complete events are forwarded as they are; only the usage
  chunk is decoded (and dropped when Inferia asked for it and the client did not);
- the endpoint is not yet known to report usage: each event's text is also collected,
  so tokens can be counted with tiktoken if no usage arrives;
- stream transforms (guardrails): each event is decoded, transformed, re-encoded.

A client that asked for usage (``stream_options.include_usage``) gets a usage chunk
even from an upstream that streams none: ``[DONE]`` is then held back until the relay
has counted the tokens (``closing``).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from inferia.inference.pipeline import StreamBlocked, StreamTransform, Usage

_USAGE = re.compile(rb'"usage"\s*:\s*\{')
DONE = b"data: [DONE]\n\n"


class _Delta(msgspec.Struct):
    content: str | None = None


class _Choice(msgspec.Struct):
    delta: _Delta | None = None
    text: str | None = None


class _Usage(msgspec.Struct):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class _Chunk(msgspec.Struct):
    choices: list[_Choice] = msgspec.field(default_factory=list)
    usage: _Usage | None = None


class _Head(msgspec.Struct):
    """What a synthesised chunk repeats of the stream's first one."""

    id: str | None = None
    object: str | None = None
    created: int | None = None
    model: str | None = None


_decode_chunk = msgspec.json.Decoder(_Chunk).decode
_decode_head = msgspec.json.Decoder(_Head).decode
_decode_any = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode


def error_event(message: str, code: str, kind: str = "server_error") -> bytes:
    payload = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return b"data: " + _encode(payload) + b"\n\n"


class SseRelay:
    def __init__(
        self,
        *,
        strip_usage: bool,
        collect_text: bool,
        transforms: list[StreamTransform],
    ) -> None:
        self.strip_usage = strip_usage
        self.collect_text = collect_text
        self.transforms = transforms
        self.usage: Usage | None = None
        self.saw_done = False
        # [DONE] arrived with no usage before it, for a client that asked for usage.
        self.done_held = False
        self.text: list[str] = []
        self._tail = b""
        self._head: _Head | None = None

    def feed(self, data: bytes) -> bytes:
        """Bytes to send to the client for this piece of upstream data (maybe empty)."""
        if self._tail:
            data = self._tail + data
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n")
        cut = data.rfind(b"\n\n") + 2
        if cut < 2:
            self._tail = data
            return b""
        if cut == len(data):  # the usual case: whole events, nothing to copy
            self._tail = b""
            block = data
        else:
            self._tail = data[cut:]
            block = data[:cut]
        if (
            not self.transforms
            and not self.collect_text
            and self._head is not None
            and not _USAGE.search(block)
        ):
            if block.endswith(DONE):
                self.saw_done = True
            return block
        events = block[:-2]
        if b"\n\n" not in events:  # one event, the usual case with a paced upstream
            return self._event(events)
        return b"".join(self._event(event) for event in events.split(b"\n\n"))

    def finish(self) -> bytes:
        """At the upstream's end of stream: whatever is left, then flushed transforms."""
        out = b""
        if self._tail.strip():
            out = self._event(self._tail.rstrip(b"\n"))
            self._tail = b""
        return out

    def closing(self, usage: Usage) -> bytes:
        """After a held-back [DONE]: the usage chunk the upstream did not send, then [DONE]."""
        head = self._head or _Head()
        chunk = {
            **{k: v for k in ("id", "object", "created", "model") if (v := getattr(head, k))},
            "choices": [],
            "usage": {
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens,
                "total_tokens": usage.prompt_tokens + usage.completion_tokens,
            },
        }
        return b"data: " + _encode(chunk) + b"\n\n" + DONE

    def _event(self, event: bytes) -> bytes:
        data = _data_of(event)
        if data is None:
            return event + b"\n\n"
        if data == b"[DONE]":
            self.saw_done = True
            flushed = b"".join(
                b"data: " + _encode(chunk) + b"\n\n"
                for transform in self.transforms
                for chunk in transform.on_end()
            )
            if self.usage is None and not self.strip_usage:
                self.done_held = True
                return flushed
            return flushed + DONE
        if self._head is None:
            try:
                self._head = _decode_head(data)
            except (msgspec.DecodeError, msgspec.ValidationError):
                self._head = _Head()
        if self.transforms:
            return self._transformed(data)
        try:
            chunk = _decode_chunk(data)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return event + b"\n\n"
        if self.collect_text:
            self._collect(chunk)
        if chunk.usage is not None:
            self.usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
            if self.strip_usage and (not chunk.choices or _only_usage(_decode_any(data))):
                return b""
        return event + b"\n\n"

    def _collect(self, chunk: _Chunk) -> None:
        for choice in chunk.choices:
            if choice.delta is not None and choice.delta.content:
                self.text.append(choice.delta.content)
            elif choice.text:
                self.text.append(choice.text)

    def _transformed(self, data: bytes) -> bytes:
        try:
            parsed: Any = _decode_any(data)
        except msgspec.DecodeError:
            return b"data: " + data + b"\n\n"
        if not isinstance(parsed, dict):
            return b"data: " + data + b"\n\n"
        usage = parsed.get("usage")
        if isinstance(usage, dict):
            self.usage = Usage(
                int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
            )
            if self.strip_usage and _only_usage(parsed):
                return b""
        if self.collect_text:
            self._collect(msgspec.convert(parsed, _Chunk, strict=False))
        chunk: dict[str, Any] | None = parsed
        for transform in self.transforms:
            assert chunk is not None
            chunk = transform.on_chunk(chunk)  # may raise StreamBlocked
            if chunk is None:
                return b""
        return b"data: " + _encode(chunk) + b"\n\n"


def _only_usage(chunk: Any) -> bool:
    """True for a usage chunk that says nothing else: ``choices`` empty, or choices with
    an empty delta and no finish reason (LiteLLM sends ``[{"index": 0, "delta": {}}]``)."""
    if not isinstance(chunk, dict):
        return False
    choices = chunk.get("choices") or []
    return isinstance(choices, list) and all(
        isinstance(c, dict)
        and not c.get("delta")
        and not c.get("text")
        and c.get("finish_reason") is None
        and not c.get("logprobs")
        for c in choices
    )


def _data_of(event: bytes) -> bytes | None:
    """The data of an SSE event (lines joined), or None for comments/other fields only."""
    if event.startswith(b"data: ") and b"\n" not in event:
        return event[6:]
    lines = [
        line[5:].removeprefix(b" ") for line in event.split(b"\n") if line.startswith(b"data:")
    ]
    return b"\n".join(lines) if lines else None


__all__ = ["DONE", "SseRelay", "StreamBlocked", "error_event"]
