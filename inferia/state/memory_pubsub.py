"""In-process pub/sub for the memory backend."""

from __future__ import annotations

import asyncio

from inferia.state.base import MessageHandler
from inferia.state.handlers import deliver


class LocalSubscription:
    def __init__(self, hub: LocalPubSub, channel: str, handler: MessageHandler) -> None:
        self.channel = channel
        self.handler = handler
        self.active = True
        self._hub = hub

    async def close(self) -> None:
        if self.active:
            self.active = False
            self._hub.remove(self)


class LocalPubSub:
    """Delivers each message in a task of its own, never inside ``publish``.

    Running handlers inline would let a handler that publishes recurse, and would
    make the publisher wait for every subscriber, unlike Redis.
    """

    def __init__(self) -> None:
        self._subscriptions: dict[str, list[LocalSubscription]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def publish(self, channel: str, message: bytes) -> None:
        targets = list(self._subscriptions.get(channel, ()))
        if not targets:
            return
        task = asyncio.get_running_loop().create_task(self._deliver(targets, channel, message))
        # Keep a strong reference: the loop only holds weak ones to tasks.
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def subscribe(self, channel: str, handler: MessageHandler) -> LocalSubscription:
        subscription = LocalSubscription(self, channel, handler)
        self._subscriptions.setdefault(channel, []).append(subscription)
        return subscription

    def remove(self, subscription: LocalSubscription) -> None:
        targets = self._subscriptions.get(subscription.channel, [])
        if subscription in targets:
            targets.remove(subscription)
        if not targets:
            self._subscriptions.pop(subscription.channel, None)

    async def close(self) -> None:
        for targets in self._subscriptions.values():
            for subscription in targets:
                subscription.active = False
        self._subscriptions.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    @staticmethod
    async def _deliver(targets: list[LocalSubscription], channel: str, message: bytes) -> None:
        for subscription in targets:
            if subscription.active:
                await deliver(subscription.handler, channel, message)
