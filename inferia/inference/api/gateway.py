"""The POST /v1 endpoints: authenticate, validate, route, run the pipeline, relay.

One ``Gateway`` per process; ``handler(api)`` gives the RSGI callable of one endpoint
(served outside Litestar: inferia.core.rsgi). Errors before the reply starts become the
OpenAI error envelope; errors after (mid-stream) become an in-stream error event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from typing import Any

import aiohttp
import msgspec

from inferia.config import Settings
from inferia.contracts import Principal
from inferia.core.client_address import ClientAddresses
from inferia.core.errors import (
    BadRequestError,
    InferiaError,
    NotFoundError,
    PermissionDeniedError,
    UpstreamError,
)
from inferia.core.ids import IdSource
from inferia.core.logging import current_request_id
from inferia.inference.api import rsgi_io
from inferia.inference.api.rsgi_io import ClientGone, ProtocolClosed
from inferia.inference.api.schemas import (
    ChatCompletionRequest,
    CompletionRequest,
    EmbeddingRequest,
    RequestBody,
    validate,
)
from inferia.inference.api.sse import SseRelay, error_event
from inferia.inference.auth import Authenticator
from inferia.inference.pipeline import (
    Api,
    Pipeline,
    RequestContext,
    StreamBlocked,
    StreamTransform,
    Usage,
)
from inferia.inference.routing.catalogue import ModelCatalogue
from inferia.inference.tokens import TokenCounter, counted_off_loop
from inferia.inference.upstream.caller import UpstreamCaller, UpstreamReply

log = logging.getLogger(__name__)

_SCHEMAS: dict[str, type[RequestBody]] = {
    "chat.completions": ChatCompletionRequest,
    "completions": CompletionRequest,
    "embeddings": EmbeddingRequest,
}
PATHS: dict[Api, str] = {
    "chat.completions": "/chat/completions",
    "completions": "/completions",
    "embeddings": "/embeddings",
}
_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode
# How old a request must be before client disconnects are watched (see DisconnectWatch).
_WATCH_GRACE_S = 0.02


class MethodNotAllowedError(InferiaError):
    status_code = 405
    code = "method_not_allowed"


class Gateway:
    def __init__(
        self,
        settings: Settings,
        authenticator: Authenticator,
        pipeline: Pipeline,
        catalogue: ModelCatalogue,
        caller: UpstreamCaller,
        counter: TokenCounter,
        addresses: ClientAddresses,
    ) -> None:
        self._settings = settings.inference
        self._max_body = settings.server.max_body_bytes
        self._auth = authenticator
        self._pipeline = pipeline
        self._catalogue = catalogue
        self._caller = caller
        self._counter = counter
        self._ids = IdSource()
        self._addresses = addresses
        # Endpoints whose streams reported usage: their text need not be collected.
        self._reports_usage: set[str] = set()
        # Requests answered, by (api, status), for GET /metrics.
        self.requests: Counter[tuple[str, int]] = Counter()

    def handler(self, api: Api) -> Any:
        gateway = self

        async def endpoint(scope: Any, protocol: Any) -> None:
            await gateway.handle(api, scope, protocol)

        return endpoint

    async def handle(self, api: Api, scope: Any, protocol: Any) -> None:
        """One request: ``scope`` and ``protocol`` are granian's RSGI HTTP objects."""
        arrived = time.perf_counter()
        request_id = rsgi_io.request_id(scope, self._ids.short)
        token = current_request_id.set(request_id)
        try:
            await self._handle(api, scope, protocol, arrived, request_id)
        finally:
            current_request_id.reset(token)

    async def _handle(
        self, api: Api, scope: Any, protocol: Any, arrived: float, request_id: str
    ) -> None:
        try:
            if scope.method != "POST":
                raise MethodNotAllowedError("Only POST is allowed here.")
            principal = await self._auth.authenticate(scope.headers.get("authorization"))
        except InferiaError as exc:
            status, body, headers = rsgi_io.error_payload(exc)
            headers.append((rsgi_io.REQUEST_ID_HEADER, request_id))
            protocol.response_bytes(status, headers, body)
            self.requests[api, status] += 1
            return
        ctx = RequestContext(
            request_id=request_id,
            principal=principal,
            api=api,
            model="",
            body={},
            stream=False,
            client_address=rsgi_io.client_address(scope, self._addresses),
            received_at=time.monotonic(),
        )
        watch: rsgi_io.DisconnectWatch | None = None
        reply: UpstreamReply | None = None
        started = False
        try:
            raw = await rsgi_io.read_body(scope, protocol, self._max_body)
            watch = rsgi_io.DisconnectWatch(protocol, _WATCH_GRACE_S)
            parsed = self._parse(raw, api, ctx)
            deployment = self._route(principal, parsed.model)
            ctx.deployment = deployment.name
            client_wants_usage = self._prepare_stream(ctx, api, parsed)
            await self._pipeline.before_upstream(ctx)
            affinity = (
                _affinity_key(ctx, self._settings.prefix_affinity_chars)
                if deployment.strategy_name == "prefix_affinity"
                else None
            )
            reply = await self._caller.call(ctx, deployment, PATHS[api], affinity)
            if ctx.stream:
                transforms = self._pipeline.stream_transforms(ctx)
                # From here on the client has a 200: failures become in-stream events.
                started = True
                await self._relay(
                    ctx, reply, protocol, watch, arrived, client_wants_usage, transforms
                )
            else:
                await self._respond(ctx, reply, protocol, watch, arrived)
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
                if watch is not None:
                    watch.stop()
                status, body, headers = rsgi_io.error_payload(exc)
                # Steps' headers (x-ratelimit-*) unless the error already carries them.
                present = {name for name, _ in headers}
                headers += [
                    header
                    for header in rsgi_io.extra_headers(ctx.response_headers)
                    if header[0] not in present
                ]
                headers.append(rsgi_io.overhead_header(time.perf_counter() - arrived))
                headers.append((rsgi_io.REQUEST_ID_HEADER, ctx.request_id))
                protocol.response_bytes(status, headers, body)
        except ClientGone:
            ctx.status, ctx.error_code = 499, "client_disconnected"
            if reply is not None:
                reply.abort()
        except asyncio.CancelledError:
            ctx.status, ctx.error_code = 499, "client_disconnected"
            if reply is not None:
                reply.abort()
            task = asyncio.current_task()
            if task is not None and watch is not None and watch.disconnected:
                task.uncancel()
            else:
                raise
        except Exception:
            # A bug: log it, free the upstream, and answer like any other error.
            log.exception("request %s failed", ctx.request_id)
            ctx.status, ctx.error_code = 500, "internal_error"
            if reply is not None:
                reply.abort()
            if not started:  # once started, the relay reports failures in the stream
                _answer_internal_error(protocol, ctx.request_id)
        finally:
            if watch is not None:
                watch.stop()
            ctx.finished_at = time.monotonic()
            self.requests[api, ctx.status] += 1
            await self._pipeline.finish(ctx)

    def _parse(self, raw: bytes, api: Api, ctx: RequestContext) -> RequestBody:
        try:
            payload = _decode(raw)
        except msgspec.DecodeError as exc:
            raise BadRequestError(f"The request body is not valid JSON: {exc}.") from None
        except UnicodeDecodeError:
            raise BadRequestError("The request body is not valid UTF-8.") from None
        parsed = validate(payload, _SCHEMAS[api], self._settings.max_tokens_limit)
        ctx.body = payload
        ctx.body_size = len(raw)
        ctx.model = parsed.model
        return parsed

    def _route(self, principal: Principal, model: str) -> Any:
        if not principal.may_use(model):
            raise PermissionDeniedError(
                f"This API key may not use the model '{model}'.", param="model"
            )
        deployment = self._catalogue.table.find(principal.organization_id, model)
        if deployment is None:
            raise NotFoundError(f"The model '{model}' does not exist.", param="model")
        return deployment

    def _prepare_stream(self, ctx: RequestContext, api: Api, parsed: RequestBody) -> bool:
        """Streams must report usage: ask for it unless the client did. Returns whether the
        client asked (if not, the usage chunk is removed from what it receives)."""
        if isinstance(parsed, EmbeddingRequest) or not parsed.stream:
            return True
        ctx.stream = True
        options = parsed.stream_options or {}
        if options.get("include_usage"):
            return True
        ctx.body["stream_options"] = {**options, "include_usage": True}
        return False

    async def _respond(
        self,
        ctx: RequestContext,
        reply: UpstreamReply,
        protocol: Any,
        watch: rsgi_io.DisconnectWatch,
        arrived: float,
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
            usage = await self._count_reply(ctx, document or {})
        ctx.usage = usage
        if steps:
            assert document is not None
            document = await self._pipeline.after_response(ctx, document, steps)
            body = _encode(document)
        ctx.reply = body
        reply.close(healthy=True, finished=True, settings=self._settings)
        headers = [
            *rsgi_io.JSON_HEADERS,
            *rsgi_io.extra_headers(ctx.response_headers),
            rsgi_io.overhead_header(time.perf_counter() - arrived - reply.upstream_s),
            (rsgi_io.REQUEST_ID_HEADER, ctx.request_id),
        ]
        watch.stop()
        protocol.response_bytes(200, headers, body)

    async def _relay(
        self,
        ctx: RequestContext,
        reply: UpstreamReply,
        protocol: Any,
        watch: rsgi_io.DisconnectWatch,
        arrived: float,
        client_wants_usage: bool,
        transforms: list[StreamTransform],
    ) -> None:
        endpoint_id = reply.endpoint.id
        relay = SseRelay(
            strip_usage=not client_wants_usage,
            collect_text=endpoint_id not in self._reports_usage,
            transforms=transforms,
        )
        content = reply.response.content
        first = reply.first
        headers = [
            *rsgi_io.SSE_HEADERS,
            *rsgi_io.extra_headers(ctx.response_headers),
            rsgi_io.overhead_header(time.perf_counter() - arrived - reply.upstream_s),
            (rsgi_io.REQUEST_ID_HEADER, ctx.request_id),
        ]
        transport = protocol.response_stream(200, headers)
        send = transport.send_bytes
        ctx.first_token_at = time.monotonic()
        failure: bytes | None = None
        data = first
        idle = rsgi_io.IdleGuard(self._settings.read_timeout_s)
        loop_time = asyncio.get_running_loop().time
        try:
            while data:
                out = relay.feed(data)
                if out:
                    try:
                        await send(out)
                    except ProtocolClosed as exc:
                        raise ClientGone from exc
                data = await content.readany()
                idle.last = loop_time()
            out = relay.finish()
            if out:
                try:
                    await send(out)
                except ProtocolClosed as exc:
                    raise ClientGone from exc
            if not relay.saw_done:
                failure = error_event(
                    "The upstream model server ended the stream early.", "upstream_incomplete"
                )
                ctx.status, ctx.error_code = 502, "upstream_incomplete"
        except ClientGone:
            raise
        except StreamBlocked as blocked:
            failure = error_event(blocked.message, blocked.code, "invalid_request_error")
            ctx.status, ctx.error_code = 400, blocked.code
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            log.warning("upstream stream failed: %s", type(exc).__name__)
            failure = error_event(
                "The upstream model server failed during the stream.", "upstream_stream_failed"
            )
            ctx.status, ctx.error_code = 502, "upstream_stream_failed"
        except asyncio.CancelledError:
            if not idle.fired:
                raise
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            failure = error_event(
                "The upstream model server went silent during the stream.", "upstream_timeout"
            )
            ctx.status, ctx.error_code = 504, "upstream_timeout"
        except Exception:
            # A bug: the client already has a 200, so it learns of it in the stream.
            log.exception("request %s failed mid-stream", ctx.request_id)
            failure = error_event(_internal_error_message(ctx.request_id), "internal_error")
            ctx.status, ctx.error_code = 500, "internal_error"
        finally:
            idle.stop()
        reply.close(
            healthy=ctx.status < 500,
            finished=relay.saw_done and failure is None,
            settings=self._settings,
        )
        if relay.usage is not None:
            self._reports_usage.add(endpoint_id)
        ctx.usage = relay.usage or await self._counted_usage(ctx, "".join(relay.text))
        watch.stop()
        if failure:
            try:
                await send(failure)
            except ProtocolClosed:
                ctx.status, ctx.error_code = 499, "client_disconnected"

    async def _count_reply(self, ctx: RequestContext, document: dict[str, Any]) -> Usage:
        texts: list[str] = []
        for choice in document.get("choices") or ():
            if isinstance(choice, dict):
                message = choice.get("message")
                if isinstance(message, dict) and isinstance(message.get("content"), str):
                    texts.append(message["content"])
                elif isinstance(choice.get("text"), str):
                    texts.append(choice["text"])
        return await self._counted_usage(ctx, "".join(texts))

    async def _counted_usage(self, ctx: RequestContext, completion: str) -> Usage:
        """The usage of an upstream that reported none, counted with tiktoken."""
        counter = self._counter
        return Usage(
            await counted_off_loop(
                ctx.body_size, counter.prompt_tokens, ctx.model, ctx.api, ctx.body
            ),
            await counted_off_loop(len(completion), counter.count, ctx.model, completion),
        )


def _internal_error_message(request_id: str) -> str:
    return f"Internal error (request {request_id}): the details are in the server log."


def _answer_internal_error(protocol: Any, request_id: str) -> None:
    """A 500 in the OpenAI envelope (before the reply started)."""
    status, body, headers = rsgi_io.error_payload(InferiaError(_internal_error_message(request_id)))
    headers.append((rsgi_io.REQUEST_ID_HEADER, request_id))
    # The client has gone, or the response was already sent.
    with contextlib.suppress(RuntimeError):
        protocol.response_bytes(status, headers, body)


def _affinity_key(ctx: RequestContext, chars: int) -> str | None:
    """The prompt's leading characters, for prefix affinity."""
    body = ctx.body
    if ctx.api == "chat.completions":
        parts: list[str] = []
        size = 0
        for message in body.get("messages") or ():
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, str):
                parts.append(content)
                size += len(content)
            if size >= chars:
                break
        text = "\n".join(parts)
    else:
        prompt = body.get("prompt", body.get("input"))
        text = prompt if isinstance(prompt, str) else str(prompt)[:chars]
    return text[:chars] or None
