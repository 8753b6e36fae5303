"""The settle step's second half: one usage event per request onto the state backend's stream.

The request path only appends to the stream (one XADD on Redis, sent in the pipeline's
one end-of-request batch; an in-process append on memory) and never waits on the
database: the filtration plane's consumer writes the events in batches. Request and
response bodies are kept only for organisations that ask for it, and are sealed before
they leave the process.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import msgspec

from inferia.config import UsageSettings
from inferia.contracts import USAGE_STREAM, PolicySnapshots, UsageEvent, body_context
from inferia.core.crypto import SecretBox
from inferia.core.errors import InferiaError
from inferia.core.ids import IdSource
from inferia.inference.pipeline import RequestContext, Step, StreamedText, StreamTransform
from inferia.limits import ModelPrice, price_for
from inferia.state import StateBackend, StreamAppend, StreamBacklog

log = logging.getLogger(__name__)
_STREAM_TEXT_KEY = "usage_sink.stream_text"


class UsageSink(Step):
    name = "usage"

    def __init__(
        self,
        state: StateBackend,
        snapshots: PolicySnapshots,
        prices: dict[str, ModelPrice],
        settings: UsageSettings,
        encryption_key: str,
    ) -> None:
        self._state = state
        self._snapshots = snapshots
        self._prices = prices
        self._settings = settings
        self._box = SecretBox(encryption_key) if encryption_key else None
        self._encoder = msgspec.json.Encoder()
        self._ids = IdSource()
        # Events that could not even be encoded (lost).
        self.unencodable = 0
        # Events the state backend could not take (an outage), appended once it is back.
        self.backlog = StreamBacklog(
            state, USAGE_STREAM, settings.backlog_max_events, label="usage events"
        )

    @property
    def dropped(self) -> int:
        """Usage events lost for good: unencodable, or pushed out of a full backlog."""
        return self.unencodable + self.backlog.dropped

    def _keeps_bodies(self, ctx: RequestContext) -> bool:
        setting = self._snapshots.log_bodies(ctx.principal.organization_id)
        return self._box is not None and (self._settings.log_bodies if setting is None else setting)

    def stream_transform(self, ctx: RequestContext) -> StreamTransform | None:
        if not self._keeps_bodies(ctx):
            return None
        parts: list[str] = []
        ctx.extras[_STREAM_TEXT_KEY] = parts
        return StreamedText(parts)

    async def finish(self, ctx: RequestContext) -> None:
        try:
            payload = self._encoder.encode(self._event(ctx))
        except InferiaError as exc:
            self.unencodable += 1
            log.warning("usage event of request %s not built: %s", ctx.request_id, exc.message)
            return

        def enqueued(ctx: RequestContext, result: Any) -> None:
            if isinstance(result, InferiaError):
                # The state backend is down: keep the event until it is back.
                self.backlog.keep(payload)
                log.warning(
                    "usage event of request %s kept for later: %s", ctx.request_id, result.message
                )

        ctx.defer(self._state, StreamAppend(USAGE_STREAM, payload), enqueued)

    def _event(self, ctx: RequestContext) -> UsageEvent:
        event_id = self._ids.uuid()
        usage = ctx.usage
        prompt = usage.prompt_tokens if usage else 0
        completion = usage.completion_tokens if usage else 0
        price = price_for(self._prices, ctx.model)
        finished = ctx.finished_at or time.monotonic()
        request_body = response_body = None
        if self._keeps_bodies(ctx) and self._box is not None:
            context = body_context(event_id)
            request_body = self._box.encrypt(self._clip(json.dumps(ctx.body)), context)
            parts = ctx.extras.get(_STREAM_TEXT_KEY)
            text = (
                ctx.reply.decode("utf-8", "replace")
                if ctx.reply is not None
                else "".join(parts or ())
            )
            response_body = self._box.encrypt(self._clip(text), context) if text else None
        principal = ctx.principal
        return UsageEvent(
            id=event_id,
            request_id=ctx.request_id,
            organization_id=principal.organization_id,
            key_id=principal.key_id,
            user_id=principal.user_id,
            api=ctx.api,
            model=ctx.model,
            deployment=ctx.deployment,
            endpoint=ctx.endpoint,
            status=ctx.status,
            error_code=ctx.error_code,
            stream=ctx.stream,
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost_micros=price.cost_micros(prompt, completion) if price else 0,
            latency_ms=round((finished - ctx.received_at) * 1000),
            ttft_ms=round((ctx.first_token_at - ctx.received_at) * 1000)
            if ctx.first_token_at
            else None,
            client_address=ctx.client_address,
            created_at=time.time(),
            request_body=request_body,
            response_body=response_body,
        )

    def _clip(self, text: str) -> str:
        limit = self._settings.max_body_chars
        return text if len(text) <= limit else text[:limit]
