"""Answering a whole (non-streamed) reply: guard output, usage, one write.

Forwarded as the upstream's bytes: the reply is decoded only when a pipeline step
rewrites replies (guard output with output rules) or the upstream reported no usage
(then its text is counted with tiktoken).
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from inferia.config import InferenceSettings
from inferia.inference.api.exchange import ClientExchange
from inferia.inference.api.model_name import ModelRenamer
from inferia.inference.pipeline import Pipeline, RequestContext
from inferia.inference.tokens import TokenCounter, reply_usage
from inferia.inference.upstream.caller import UpstreamReply

_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode


class WholeReply:
    def __init__(
        self, settings: InferenceSettings, pipeline: Pipeline, counter: TokenCounter
    ) -> None:
        self._settings = settings
        self._pipeline = pipeline
        self._counter = counter

    async def answer(
        self, ctx: RequestContext, reply: UpstreamReply, client: ClientExchange, arrived: float
    ) -> None:
        body = reply.first
        ctx.first_token_at = time.monotonic()
        usage = reply.usage
        steps = self._pipeline.reply_steps(ctx)
        document: dict[str, Any] | None = None
        if steps or usage is None:
            document = _decode(body)
            assert isinstance(document, dict)
        if usage is None:
            usage = await reply_usage(self._counter, ctx, document or {})
        ctx.usage = usage
        if steps:
            assert document is not None
            document = await self._pipeline.after_response(ctx, document, steps)
            body = _encode(document)
        renamer = ModelRenamer.for_reply(ctx, body)
        if renamer is not None:
            body = renamer(body)
        ctx.reply = body
        reply.close(healthy=True, finished=True, settings=self._settings)
        client.stop_watching()
        await client.answer(
            body, ctx.response_headers, time.perf_counter() - arrived - reply.upstream_s
        )
