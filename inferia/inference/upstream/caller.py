"""Calling upstreams: pick an endpoint, send, retry elsewhere, fall back to other models.

Everything here happens before the first byte reaches the client: a reply is only
handed back once the upstream answered 200 and (for streams) sent its first bytes,
so any failure up to then can still go to another endpoint or model.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
import msgspec

from inferia.config import InferenceSettings
from inferia.core.errors import UpstreamError
from inferia.inference.pipeline import RequestContext, Usage
from inferia.inference.routing.endpoint import Endpoint
from inferia.inference.routing.table import Deployment, RoutingTable
from inferia.inference.upstream import errors

log = logging.getLogger(__name__)


@dataclass(slots=True, eq=False)
class UpstreamReply:
    endpoint: Endpoint
    response: aiohttp.ClientResponse
    # The whole body (non-streamed) or the first bytes of the stream.
    first: bytes
    # Seconds spent waiting on upstreams (all attempts), excluded from the overhead.
    upstream_s: float
    # Non-streamed replies: the usage the upstream reported, if any.
    usage: Usage | None = None
    _closed: bool = False

    def close(self, *, healthy: bool, finished: bool, settings: InferenceSettings) -> None:
        """Give the connection back (or drop it) and settle the endpoint's health."""
        if self._closed:
            return
        self._closed = True
        health = self.endpoint.health
        health.release()
        if finished:
            self.response.release()
        else:
            # An unfinished stream: closing the connection is what stops the upstream.
            self.response.close()
        if healthy:
            health.succeeded()
        else:
            health.failed(settings.circuit_failure_threshold, settings.circuit_cooldown_s)

    def abort(self) -> None:
        """The client left: stop the upstream at once; the endpoint is not at fault."""
        if not self._closed:
            self._closed = True
            self.endpoint.health.release()
            self.response.close()


class UpstreamCaller:
    def __init__(
        self,
        session: Callable[[], aiohttp.ClientSession],
        settings: InferenceSettings,
        table: Callable[[], RoutingTable],
    ) -> None:
        self._session = session
        self._settings = settings
        self._table = table
        self._fallback_on = frozenset(settings.fallback_on)
        self._timeouts: dict[tuple[str, bool], aiohttp.ClientTimeout] = {}

    def _timeout(self, endpoint: Endpoint, stream: bool) -> aiohttp.ClientTimeout:
        timeout = self._timeouts.get((endpoint.id, stream))
        if timeout is None:
            # Streams: aiohttp's per-read timer would be re-armed on every event; the
            # first byte is bounded here (asyncio.timeout) and later silences by the
            # relay's IdleGuard instead.
            timeout = self._timeouts[(endpoint.id, stream)] = aiohttp.ClientTimeout(
                total=endpoint.request_timeout_s,
                connect=endpoint.connect_timeout_s,
                sock_read=None if stream else self._settings.read_timeout_s,
            )
        return timeout

    async def call(self, ctx: RequestContext, deployment: Deployment, path: str) -> UpstreamReply:
        """The first deployment that answers: ``deployment``, then its fallbacks."""
        waited = 0.0
        last: UpstreamError | None = None
        for index, name in enumerate([ctx.model, *self._settings.fallbacks.get(ctx.model, ())]):
            if index:
                assert last is not None
                if last.failure not in self._fallback_on:
                    break
                if not ctx.principal.may_use(name):
                    # A fallback must not reach a model the caller's key may not use.
                    continue
                found = self._table().find(ctx.principal.organization_id, name)
                if found is None:
                    continue
                deployment = found
            try:
                reply = await self._call_deployment(ctx, deployment, path)
            except _Failed as failed:
                waited += failed.waited
                last = failed.error
                continue
            reply.upstream_s += waited
            ctx.upstream_s = reply.upstream_s
            ctx.deployment = deployment.name
            ctx.endpoint = reply.endpoint.id
            return reply
        assert last is not None
        ctx.upstream_s = waited
        raise last

    async def _call_deployment(
        self, ctx: RequestContext, deployment: Deployment, path: str
    ) -> UpstreamReply:
        settings = self._settings
        strategy = deployment.strategy
        # What the deployment's strategy routes by (the prompt's prefix, or nothing).
        key = strategy.request_key(ctx)
        tried: set[str] = set()
        waited = 0.0
        error: UpstreamError | None = None
        for attempt in range(settings.max_retries + 1):
            now = time.monotonic()
            healthy = [e for e in deployment.endpoints if e.health.available(now)]
            candidates = [e for e in healthy if e.id not in tried] or healthy
            if not candidates:
                break
            endpoint = strategy.pick(candidates, key)
            # A request retried on the same endpoint counts once toward its breaker.
            first_try_here = endpoint.id not in tried
            tried.add(endpoint.id)
            started = time.perf_counter()
            try:
                reply = await self._attempt(ctx, endpoint, path, first_try_here)
            except UpstreamError as exc:
                waited += time.perf_counter() - started
                error = exc
                if exc.failure not in errors.RETRYABLE or attempt == settings.max_retries:
                    break
                pause = settings.retry_backoff_s * (2**attempt) * (0.5 + random.random())
                await asyncio.sleep(pause)
                waited += pause
                continue
            reply.upstream_s += waited
            return reply
        raise _Failed(error or errors.no_endpoint(deployment.name), waited)

    async def _attempt(
        self, ctx: RequestContext, endpoint: Endpoint, path: str, counts: bool = True
    ) -> UpstreamReply:
        body = ctx.body
        body["model"] = endpoint.upstream_model
        payload = msgspec.json.encode(body)
        body["model"] = ctx.model
        health = endpoint.health
        health.acquire(time.monotonic())
        started = time.perf_counter()
        response: aiohttp.ClientResponse | None = None
        usage: Usage | None = None
        first = b""
        try:
            if ctx.stream:
                async with asyncio.timeout(self._settings.read_timeout_s):
                    response = await self._session().post(
                        endpoint.base_url + path,
                        data=payload,
                        headers=endpoint.headers,
                        timeout=self._timeout(endpoint, True),
                        # A 3xx is a bad reply, never followed: a redirect could send the
                        # prompt and the endpoint's headers anywhere (docs/security.md).
                        allow_redirects=False,
                    )
                    if response.status == 200:
                        first = await response.content.readany()
                        if not first:
                            raise errors.bad_response("the stream ended before any data")
            else:
                response = await self._session().post(
                    endpoint.base_url + path,
                    data=payload,
                    headers=endpoint.headers,
                    timeout=self._timeout(endpoint, False),
                    allow_redirects=False,
                )
            if response.status != 200:
                detail = await _read_limited(response, 65536)
                raise errors.from_status(
                    response.status, detail, response.headers.get("retry-after")
                )
            if not ctx.stream:
                first = await _read_limited(response, self._settings.max_upstream_response_bytes)
                usage = _reply_usage(first)
        except UpstreamError as exc:
            self._failed(ctx, endpoint, response, exc.failure, counts)
            raise
        except (TimeoutError, aiohttp.ServerTimeoutError):
            self._failed(ctx, endpoint, response, "timeout", counts)
            raise errors.timeout_error() from None
        except (aiohttp.ClientError, OSError) as exc:
            self._failed(ctx, endpoint, response, "connection", counts)
            raise errors.connection_error(exc) from None
        except BaseException:
            # Cancelled (the client left) or anything unexpected: drop the connection.
            health.release()
            if response is not None:
                response.close()
            raise
        reply = UpstreamReply(endpoint, response, first, time.perf_counter() - started)
        if not ctx.stream:
            reply.usage = usage
        return reply

    def _failed(
        self,
        ctx: RequestContext,
        endpoint: Endpoint,
        response: aiohttp.ClientResponse | None,
        failure: str,
        counts: bool = True,
    ) -> None:
        """``counts``: False for a retry of this request on an endpoint it already failed
        on (the failure was counted then)."""
        health = endpoint.health
        health.release()
        status = response.status if response is not None else None
        if response is not None:
            response.close()
        # Who failed and how, never what was sent or the endpoint's credentials; the
        # request id comes with every log line (inferia.core.logging).
        where = _host_of(endpoint.base_url)
        log.warning(
            "upstream call failed: model=%s endpoint=%s (%s) class=%s status=%s",
            ctx.model,
            endpoint.id,
            where,
            failure,
            status if status is not None else "-",
        )
        if failure not in errors.UNHEALTHY:
            health.succeeded()
        elif counts:
            was_open = health.open_until
            settings = self._settings
            health.failed(settings.circuit_failure_threshold, settings.circuit_cooldown_s)
            if health.open_until != was_open:
                log.error(
                    "circuit opened: endpoint %s (%s) of model %s refused for %.0f s after "
                    "%d failures in a row",
                    endpoint.id,
                    where,
                    endpoint.deployment,
                    settings.circuit_cooldown_s,
                    health.consecutive_failures,
                )


def _host_of(base_url: str) -> str:
    """``host:port`` of an endpoint URL: no user-info, path or query (they may hold
    secrets)."""
    parts = urlsplit(base_url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


class _ReplyUsage(msgspec.Struct):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class _Reply(msgspec.Struct):
    usage: _ReplyUsage | None = None


_decode_reply = msgspec.json.Decoder(_Reply).decode


def _reply_usage(body: bytes) -> Usage | None:
    """The reported usage of a non-streamed reply; a reply that is not a JSON object is
    the upstream's failure (and may still be retried elsewhere)."""
    try:
        usage = _decode_reply(body).usage
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise errors.bad_response("not a JSON object") from None
    return None if usage is None else Usage(usage.prompt_tokens, usage.completion_tokens)


class _Failed(Exception):
    def __init__(self, error: UpstreamError, waited: float) -> None:
        self.error = error
        self.waited = waited


async def _read_limited(response: aiohttp.ClientResponse, limit: int) -> bytes:
    length = response.content_length
    if length is not None:
        if length > limit:
            raise errors.bad_response(f"the reply is larger than {limit} bytes")
        # The parser stops at the declared length: read() is bounded, and cheaper.
        return await response.read()
    chunks: list[bytes] = []
    size = 0
    while chunk := await response.content.readany():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise errors.bad_response(f"the reply is larger than {limit} bytes")
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
