"""Stopping background tasks reliably."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def cancel_and_wait(task: asyncio.Task[Any], *, recancel_s: float = 1.0) -> None:
    """Cancel ``task`` and wait until it ends, cancelling again while it runs on.

    One ``cancel()`` is not always enough: redis-py (8.2) can swallow a cancellation
    that lands during a blocking read, and the call returns as if nothing happened,
    so a loop around it goes on and a plain ``await task`` waits forever (a stream
    consumer's close() hung 1 run in 3 of a test). An exception the task ended with
    is raised here.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=recancel_s)
    with contextlib.suppress(asyncio.CancelledError):
        task.result()
