"""A deployment's log lines: each pod's, prefixed by its replica, merged as they come."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator


async def prefixed(replica: str, lines: AsyncIterator[str]) -> AsyncIterator[str]:
    async for line in lines:
        yield f"[{replica}] {line}"


async def merged(sources: list[AsyncIterator[str]]) -> AsyncIterator[str]:
    """Lines of several pods as they come (followed logs never end on their own)."""
    if len(sources) == 1:
        async for line in sources[0]:
            yield line
        return
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    async def pump(source: AsyncIterator[str]) -> None:
        try:
            async for line in source:
                await queue.put(line)
        finally:
            await queue.put(None)

    tasks = [asyncio.create_task(pump(s)) for s in sources]
    try:
        remaining = len(tasks)
        while remaining:
            item = await queue.get()
            if item is None:
                remaining -= 1
            else:
                yield item
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
