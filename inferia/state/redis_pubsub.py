"""Redis pub/sub: one connection per backend, a reader that survives reconnects.

A reader task owns the subscribed connection: it (re)connects, subscribes every
channel that has handlers, and hands messages to a dispatcher task. Handlers
run in the dispatcher, not the reader, so a handler that subscribes or is slow
cannot stall the reads that confirm subscriptions. Messages published while
the connection is down are lost (that is pub/sub): when a channel's subscription is
confirmed again after a reconnect, its handlers get ``EVERYTHING_CHANGED``, so a
revocation announced during the gap still takes effect at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from inferia.core.errors import StateError
from inferia.state.base import EVERYTHING_CHANGED, MessageHandler
from inferia.state.handlers import deliver
from inferia.state.redis_errors import REDIS_FAILURES, translate_errors

log = logging.getLogger(__name__)

_READ_TIMEOUT_S = 1.0  # wake up regularly so health checks run on a quiet connection
_RECONNECT_MIN_S = 0.05
_RECONNECT_MAX_S = 2.0
_QUEUE_SIZE = 10_000  # back-pressure on the reader if handlers fall far behind


class RedisSubscription:
    def __init__(self, hub: RedisPubSub, channel: str, handler: MessageHandler) -> None:
        self.channel = channel
        self.handler = handler
        self.active = True
        self._hub = hub

    async def close(self) -> None:
        if self.active:
            self.active = False
            await self._hub.remove(self)


class RedisPubSub:
    def __init__(self, client: Redis, confirm_timeout_s: float) -> None:
        # ``client`` must not retry by itself: the reader reconnects and logs.
        self._client = client
        self._confirm_timeout_s = confirm_timeout_s
        self._subscriptions: dict[str, list[RedisSubscription]] = {}
        self._confirmed: set[str] = set()  # channels the live connection has acknowledged
        # Channels some earlier connection had acknowledged: a new acknowledgement of
        # one of them ends a gap in which messages may have been lost.
        self._ever_confirmed: set[str] = set()
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._live: PubSub | None = None
        self._queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(_QUEUE_SIZE)
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False

    async def subscribe(self, channel: str, handler: MessageHandler) -> RedisSubscription:
        if self._closed:
            raise StateError("state backend is closed")
        subscription = RedisSubscription(self, channel, handler)
        self._subscriptions.setdefault(channel, []).append(subscription)
        if channel in self._confirmed:
            return subscription
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(channel, []).append(waiter)
        self._ensure_tasks()
        try:
            # If the reader is not connected yet it subscribes every registered
            # channel once it is; the registration above happened first.
            if self._live is not None:
                with translate_errors("SUBSCRIBE"):
                    await self._live.subscribe(channel)
            await asyncio.wait_for(waiter, self._confirm_timeout_s)
        except (StateError, TimeoutError) as exc:
            subscription.active = False
            self._forget(subscription)
            raise StateError(f"Redis did not confirm the subscription to {channel!r}") from exc
        finally:
            waiters = self._waiters.get(channel, [])
            if waiter in waiters:
                waiters.remove(waiter)
            if not waiters:
                self._waiters.pop(channel, None)
        return subscription

    async def remove(self, subscription: RedisSubscription) -> None:
        if not self._forget(subscription):
            return
        live = self._live
        if live is not None:
            # Best effort: if this fails the connection is gone, and the reader
            # will not resubscribe a channel without handlers.
            with contextlib.suppress(*REDIS_FAILURES):
                await live.unsubscribe(subscription.channel)

    async def close(self) -> None:
        self._closed = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for waiters in self._waiters.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(StateError("state backend is closed"))
        self._subscriptions.clear()

    def _forget(self, subscription: RedisSubscription) -> bool:
        """Drop a handler; True when its channel has no handlers left."""
        targets = self._subscriptions.get(subscription.channel, [])
        if subscription in targets:
            targets.remove(subscription)
        if targets:
            return False
        self._subscriptions.pop(subscription.channel, None)
        self._confirmed.discard(subscription.channel)
        self._ever_confirmed.discard(subscription.channel)
        return True

    def _ensure_tasks(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._read_forever(), name="inferia-state-pubsub-reader"),
                asyncio.create_task(self._dispatch_forever(), name="inferia-state-pubsub-dispatch"),
            ]

    async def _read_forever(self) -> None:
        delay = _RECONNECT_MIN_S
        outage = False
        while not self._closed:
            pubsub = self._client.pubsub()
            try:
                await pubsub.connect()  # type: ignore[no-untyped-call]  # redis-py
                self._live = pubsub
                channels = list(self._subscriptions)
                if channels:
                    await pubsub.subscribe(*channels)
                if outage:
                    log.info(
                        "pub/sub reconnected to Redis; %d channel(s) resubscribed", len(channels)
                    )
                    outage = False
                delay = _RECONNECT_MIN_S
                while True:
                    message = await pubsub.get_message(timeout=_READ_TIMEOUT_S)
                    if message is not None:
                        await self._on_message(message)
            except REDIS_FAILURES as exc:
                if not outage:
                    log.warning("pub/sub connection to Redis lost (%s); reconnecting", exc)
                    outage = True
            except Exception:
                # Whatever went wrong, a dead reader would silently stop every
                # invalidation: log it and start over on a fresh connection.
                log.exception("pub/sub reader failed; reconnecting")
                outage = True
            finally:
                self._live = None
                self._confirmed.clear()
                with contextlib.suppress(*REDIS_FAILURES):
                    await pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]  # redis-py < 8.2
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RECONNECT_MAX_S)

    async def _on_message(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        channel = _text(message["channel"])
        if kind == "subscribe":
            self._confirmed.add(channel)
            if channel in self._ever_confirmed and channel in self._subscriptions:
                await self._queue.put((channel, EVERYTHING_CHANGED))
            self._ever_confirmed.add(channel)
            for waiter in self._waiters.get(channel, []):
                if not waiter.done():
                    waiter.set_result(None)
        elif kind == "message" and channel in self._subscriptions:
            await self._queue.put((channel, message["data"]))

    async def _dispatch_forever(self) -> None:
        while True:
            channel, data = await self._queue.get()
            for subscription in list(self._subscriptions.get(channel, ())):
                if subscription.active:
                    await deliver(subscription.handler, channel, data)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
