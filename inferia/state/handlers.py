"""Calling pub/sub handlers: shared by both backends so they fail the same way."""

from __future__ import annotations

import inspect
import logging

from inferia.state.base import MessageHandler

log = logging.getLogger(__name__)


async def deliver(handler: MessageHandler, channel: str, message: bytes) -> None:
    """Run one handler; its failure is logged and goes no further.

    One broken handler must not stop the reader that serves every other one.
    """
    try:
        result = handler(message)
        if inspect.isawaitable(result):
            await result
    except Exception:
        log.exception("pub/sub handler failed on channel %r", channel)
