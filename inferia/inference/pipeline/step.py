"""The step base class and the streaming hook protocol.

A step overrides only the hooks it needs; the Pipeline notices which ones by comparing
against this base class, so an unused hook costs nothing per request.
"""

from __future__ import annotations

from typing import Any, Protocol

from inferia.inference.pipeline.context import RequestContext


class StreamBlocked(Exception):
    """Raised by a StreamTransform to end a stream with an OpenAI-style error event."""

    def __init__(self, message: str, *, code: str = "content_blocked") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class StreamTransform(Protocol):
    def on_chunk(self, chunk: dict[str, Any]) -> dict[str, Any] | None:
        """A parsed SSE chunk; return it (possibly rewritten) or None to hold it back.
        Raise StreamBlocked to end the stream with an error event."""
        ...

    def on_end(self) -> list[dict[str, Any]]:
        """Flush held-back content as extra chunks."""
        ...


class StreamedText:
    """A StreamTransform that only records a stream's text into ``parts`` (each choice's
    ``delta.content``, or ``text`` for completions), leaving the chunks as they are."""

    def __init__(self, parts: list[str]) -> None:
        self._parts = parts

    def on_chunk(self, chunk: dict[str, Any]) -> dict[str, Any] | None:
        for choice in chunk.get("choices") or ():
            if isinstance(choice, dict):
                delta = choice.get("delta")
                text = delta.get("content") if isinstance(delta, dict) else None
                text = text if isinstance(text, str) else choice.get("text")
                if isinstance(text, str):
                    self._parts.append(text)
        return chunk

    def on_end(self) -> list[dict[str, Any]]:
        return []


class Step:
    """Base class with no-op defaults."""

    name: str = "step"

    async def before_upstream(self, ctx: RequestContext) -> None:
        """In order, before the upstream call; raise InferiaError to refuse."""

    def wants_reply(self, ctx: RequestContext) -> bool:
        """Whether ``after_response`` has work on this request. The reply is decoded
        (and encoded again) only when some step says so."""
        return True

    async def after_response(self, ctx: RequestContext, reply: dict[str, Any]) -> dict[str, Any]:
        """Non-streamed replies, before they are returned."""
        return reply

    def stream_transform(self, ctx: RequestContext) -> StreamTransform | None:
        """One object per streamed response, or None."""
        return None

    async def finish(self, ctx: RequestContext) -> None:
        """Exactly once per authenticated request, whatever happened. Must not raise
        and must not wait on slow I/O: state writes go through ``ctx.defer``, which
        sends every step's writes in one round trip after the last finish hook."""
