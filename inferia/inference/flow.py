"""The request flow of the /v1 POST endpoints: the one place that holds the order.

    authenticate -> route -> admit -> shape prompt -> guard input -> call upstream
    -> guard output / relay -> settle

Shape prompt runs before guard input (DESIGN.md lists it after): a template's
variables are the caller's text, so the input guardrails scan the rendered messages,
exactly what goes upstream. Knowledge-base retrieval, the other half of shaping the
prompt, runs right after it, before guard input too when
``knowledge.guard_retrieved_text`` is on (the default), so the guard scans the chunks.

Each stage is an object with one job, built by ``InferencePlane`` and handed in here.
Admit, guard input, guard output and settle are pipeline ``Step``s
(``inferia.inference.pipeline``): a hook that no configured step overrides is never
called. The thin /v1 entry (``inferia.inference.api.endpoints``) hands over the
request's ``ClientExchange``; before the reply starts a failure is answered in the
OpenAI error envelope, after it (mid-stream) as an error event. Settle runs exactly
once per authenticated request, after the reply is complete.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter

from inferia.config import Settings
from inferia.core.errors import InferiaError, UpstreamError
from inferia.inference.api.exchange import ClientExchange, ClientGone
from inferia.inference.api.relay import StreamRelay, ask_for_usage, internal_error_message
from inferia.inference.api.reply import WholeReply
from inferia.inference.api.schemas import parse
from inferia.inference.api.sse import error_event
from inferia.inference.auth import Authenticator
from inferia.inference.local_reply import LocalEmbeddingsReply
from inferia.inference.pipeline import Api, Pipeline, RequestContext, Step
from inferia.inference.routing.router import Router
from inferia.inference.tokens import TokenCounter
from inferia.inference.upstream.caller import UpstreamCaller, UpstreamReply

log = logging.getLogger(__name__)

PATHS: dict[Api, str] = {
    "chat.completions": "/chat/completions",
    "completions": "/completions",
    "embeddings": "/embeddings",
}


class RequestFlow:
    def __init__(
        self,
        settings: Settings,
        counter: TokenCounter,
        *,
        authenticate: Authenticator,
        route: Router,
        admit: Step,
        shape_prompt: Step,
        guard_input: Step,
        retrieve_context: Step | None = None,
        call_upstream: UpstreamCaller,
        guard_output: Step,
        settle: Step,
        local_embeddings: LocalEmbeddingsReply | None = None,
    ) -> None:
        self._settings = settings.inference
        self._authenticate = authenticate
        self._route = route
        self._call_upstream = call_upstream
        # /v1/embeddings of in-process models (the local embeddings plugin).
        self._local_embeddings = local_embeddings
        self.pipeline = Pipeline()
        self.pipeline.append(admit)  # limits, quotas, budgets
        self.pipeline.append(shape_prompt)  # the `inferia` field, templates
        # Retrieved chunks pass the input guardrails when configured so: then retrieval
        # runs before them, and the guard scans the injected system message too.
        retrieve_first = settings.knowledge.guard_retrieved_text
        if retrieve_context is not None and retrieve_first:
            self.pipeline.append(retrieve_context)
        self.pipeline.append(guard_input)  # every message (rendered ones too), tool calls
        if retrieve_context is not None and not retrieve_first:
            self.pipeline.append(retrieve_context)
        self.pipeline.append(guard_output)  # whole replies and streams
        # settle: admission's finish hook, then the usage event and inference log
        self.pipeline.append(settle)
        self._whole_reply = WholeReply(self._settings, self.pipeline, counter)
        self._relay = StreamRelay(self._settings, counter)
        # Requests answered, by (api, status), for GET /metrics.
        self.requests: Counter[tuple[str, int]] = Counter()

    async def run(self, api: Api, client: ClientExchange, arrived: float) -> None:
        """One request; ``arrived``: ``time.perf_counter()`` when it reached the entry."""
        try:
            principal = await self._authenticate.authenticate(client.authorization)
        except InferiaError as exc:
            await client.answer_error(exc)
            self.requests[api, exc.status_code] += 1
            return
        ctx = RequestContext(
            request_id=client.request_id,
            principal=principal,
            api=api,
            model="",
            body={},
            stream=False,
            client_address=client.client_address,
            received_at=time.monotonic(),
        )
        reply: UpstreamReply | None = None
        started = False
        pipeline = self.pipeline
        try:
            raw = await client.read_body()
            client.watch_disconnect()
            ctx.body, parsed = parse(raw, api, self._settings.max_tokens_limit)
            ctx.body_size = len(raw)
            ctx.model = parsed.model
            local = self._local_embeddings
            if local is not None and api == "embeddings" and local.serves(ctx.model):
                await pipeline.before_upstream(ctx)  # admit, guard input
                body = await local.answer(ctx)
                ctx.first_token_at = time.monotonic()
                ctx.reply = body
                client.stop_watching()
                await client.answer(body, ctx.response_headers, time.perf_counter() - arrived)
                return
            deployment = self._route.route(ctx)
            client_wants_usage = ask_for_usage(ctx, parsed)
            await pipeline.before_upstream(ctx)  # admit, shape prompt, guard input
            reply = await self._call_upstream.call(ctx, deployment, PATHS[api])
            if ctx.stream:
                transforms = pipeline.stream_transforms(ctx)  # guard output, settle's text
                # From here on the client has a 200: failures become in-stream events.
                started = True
                await self._relay.relay(ctx, reply, client, arrived, client_wants_usage, transforms)
            else:
                await self._whole_reply.answer(ctx, reply, client, arrived)
        except InferiaError as exc:
            ctx.status, ctx.error_code = exc.status_code, exc.code
            if reply is not None:
                # A later step's refusal (a guardrail) is not the endpoint's fault.
                fault = isinstance(exc, UpstreamError)
                reply.close(
                    healthy=not fault,
                    finished=not (fault or ctx.stream),
                    settings=self._settings,
                )
            if not started:
                client.stop_watching()
                # Inferia's own time: the upstream wait (failed attempts included) is not.
                overhead_s = time.perf_counter() - arrived - ctx.upstream_s
                await client.answer_error(exc, ctx.response_headers, overhead_s)
            else:
                await _end_stream(client, error_event(exc.message, exc.code))
        except ClientGone:
            ctx.status, ctx.error_code = 499, "client_disconnected"
            if reply is not None:
                reply.abort()
        except asyncio.CancelledError:
            ctx.status, ctx.error_code = 499, "client_disconnected"
            if reply is not None:
                reply.abort()
            task = asyncio.current_task()
            if task is not None and client.disconnected:
                task.uncancel()
            else:
                if started:  # shutting down: the client learns why its stream ends
                    await _end_stream(client, error_event("The server is stopping.", "cancelled"))
                raise
        except Exception:
            # A bug: log it, free the upstream, and answer like any other error.
            log.exception("request %s failed", ctx.request_id)
            ctx.status, ctx.error_code = 500, "internal_error"
            if reply is not None:
                reply.abort()
            message = internal_error_message(ctx.request_id)
            if not started:
                client.stop_watching()
                await client.answer_error(InferiaError(message))
            else:
                await _end_stream(client, error_event(message, "internal_error"))
        finally:
            client.stop_watching()
            ctx.finished_at = time.monotonic()
            self.requests[api, ctx.status] += 1
            await pipeline.finish(ctx)  # settle


async def _end_stream(client: ClientExchange, event: bytes) -> None:
    """A started stream is always ended, whatever failed after it started: else the
    client waits for its own timeout. Once the relay ended it, this does nothing."""
    with contextlib.suppress(ClientGone):
        await client.end_stream(event)
