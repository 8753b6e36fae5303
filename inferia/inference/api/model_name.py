"""Replies name the model the client asked for, not the upstream's name for it.

OpenAI SDK users match on ``model`` (an ``upstream_model`` such as
"meta-llama/Llama-3.1-8B-Instruct" behind the name "llama-3.1-8b" broke that); the
upstream's name goes into the ``x-inferia-upstream-model`` header. The bytes are
rewritten, not re-encoded: the top-level ``"model"`` is the only unescaped one in a
reply (strings inside it escape their quotes), and a stream carries one per event.
"""

from __future__ import annotations

import re

import msgspec

from inferia.inference.pipeline import RequestContext

UPSTREAM_MODEL_HEADER = "x-inferia-upstream-model"
_MODEL = re.compile(rb'"model"\s*:\s*"((?:[^"\\]|\\.)*)"')


class ModelRenamer:
    __slots__ = ("_replacement",)

    def __init__(self, requested: str) -> None:
        self._replacement = b'"model":' + msgspec.json.encode(requested)

    @classmethod
    def for_reply(cls, ctx: RequestContext, first: bytes) -> ModelRenamer | None:
        """A renamer when the reply (its first bytes) names another model than the
        client asked for, the upstream's name then set as a response header; else None."""
        found = _MODEL.search(first)
        if found is None:
            return None
        try:
            upstream = msgspec.json.decode(b'"' + found.group(1) + b'"', type=str)
        except msgspec.DecodeError:
            return None
        if upstream == ctx.model:
            return None
        if upstream.isascii() and upstream.isprintable():
            ctx.response_headers[UPSTREAM_MODEL_HEADER] = upstream
        return cls(ctx.model)

    def __call__(self, data: bytes) -> bytes:
        return _MODEL.sub(lambda _: self._replacement, data)
