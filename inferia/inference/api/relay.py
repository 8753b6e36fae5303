"""Relaying a streamed reply to the client: the loop around ``SseRelay`` (api/sse.py).

Upstream bytes are forwarded as they arrive, through the pipeline's stream transforms
(guard output); the client already has its 200, so a failure from here on becomes an
error event at the end of the stream. A silent upstream is cut after
``inference.read_timeout_s`` by one self-re-arming timer per stream (``IdleGuard``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import aiohttp

from inferia.config import InferenceSettings
from inferia.inference.api.exchange import ClientExchange, ClientGone
from inferia.inference.api.model_name import ModelRenamer
from inferia.inference.api.schemas import EmbeddingRequest, RequestBody
from inferia.inference.api.sse import SseRelay, error_event
from inferia.inference.pipeline import RequestContext, StreamBlocked, StreamTransform
from inferia.inference.tokens import TokenCounter, counted_usage
from inferia.inference.upstream.caller import UpstreamReply

log = logging.getLogger(__name__)


def internal_error_message(request_id: str) -> str:
    return f"Internal error (request {request_id}): the details are in the server log."


def ask_for_usage(ctx: RequestContext, parsed: RequestBody) -> bool:
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


class StreamRelay:
    def __init__(self, settings: InferenceSettings, counter: TokenCounter) -> None:
        self._settings = settings
        self._counter = counter
        # Endpoints whose streams reported usage: their text need not be collected.
        self._reports_usage: set[str] = set()

    async def relay(
        self,
        ctx: RequestContext,
        reply: UpstreamReply,
        client: ClientExchange,
        arrived: float,
        client_wants_usage: bool,
        transforms: list[StreamTransform],
    ) -> None:
        """The stream, then its usage on ``ctx`` (the upstream's, else counted)."""
        endpoint_id = reply.endpoint.id
        relay = SseRelay(
            strip_usage=not client_wants_usage,
            # A client that asked for usage gets a counted one if the upstream sends none.
            collect_text=client_wants_usage or endpoint_id not in self._reports_usage,
            transforms=transforms,
        )
        content = reply.response.content
        renamer = ModelRenamer.for_reply(ctx, reply.first)
        await client.open_stream(
            ctx.response_headers, time.perf_counter() - arrived - reply.upstream_s
        )
        send = client.send_event if renamer is None else _renaming(client, renamer)
        ctx.first_token_at = time.monotonic()
        failure: bytes | None = None
        data = reply.first
        idle = IdleGuard(self._settings.read_timeout_s)
        loop_time = asyncio.get_running_loop().time
        try:
            while data:
                out = relay.feed(data)
                if out:
                    await send(out)
                data = await content.readany()
                idle.last = loop_time()
            out = relay.finish()
            if out:
                await send(out)
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
            failure = error_event(internal_error_message(ctx.request_id), "internal_error")
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
        elif relay.saw_done:
            self._reports_usage.discard(endpoint_id)
        client.stop_watching()
        usage = None
        if failure is None:
            # A stream that ended well: its held [DONE] closes with the usage.
            usage = relay.usage or await counted_usage(self._counter, ctx, "".join(relay.text))
            ctx.usage = usage
        # A failed stream ends first: the accounting below may wait for a worker thread
        # (token counting), and a client must never wait on that.
        try:
            if relay.done_held and usage is not None:
                await send(relay.closing(usage))
            await client.end_stream(failure)
        except ClientGone:
            if failure:
                ctx.status, ctx.error_code = 499, "client_disconnected"
        if failure is not None:
            ctx.usage = relay.usage or await counted_usage(self._counter, ctx, "".join(relay.text))


def _renaming(client: ClientExchange, renamer: ModelRenamer) -> Callable[[bytes], Awaitable[None]]:
    """``client.send_event`` with the events' model renamed."""

    async def send(data: bytes) -> None:
        await client.send_event(renamer(data))

    return send


class IdleGuard:
    """Cancels the request's task when a stream stays silent for ``timeout_s``.

    One timer per stream that re-arms itself at most once per ``timeout_s``; the relay
    only stamps ``last`` per event (cheaper than re-arming a timer per event).
    """

    __slots__ = ("_handle", "_loop", "_target", "_timeout", "fired", "last")

    def __init__(self, timeout_s: float) -> None:
        self._loop = asyncio.get_running_loop()
        current = asyncio.current_task()
        assert current is not None
        self._target = current
        self._timeout = timeout_s
        self.fired = False
        self.last = self._loop.time()
        self._handle: asyncio.TimerHandle | None = self._loop.call_later(timeout_s, self._check)

    def _check(self) -> None:
        idle = self._loop.time() - self.last
        if idle >= self._timeout:
            self._handle = None
            self.fired = True
            self._target.cancel()
        else:
            self._handle = self._loop.call_later(self._timeout - idle, self._check)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
