"""cancel_and_wait ends a task whose loop swallowed a cancellation."""

from __future__ import annotations

import asyncio

import pytest

from inferia.core.tasks import cancel_and_wait


async def test_a_loop_that_swallows_one_cancellation_still_ends() -> None:
    rounds = 0

    async def loop() -> None:
        nonlocal rounds
        while True:
            rounds += 1
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                # What a client library that loses a cancellation amounts to.
                if rounds < 3:
                    continue
                raise

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait(task, recancel_s=0.05), timeout=5)
    assert task.cancelled()


async def test_the_exception_a_task_died_of_is_raised() -> None:
    async def broken() -> None:
        raise RuntimeError("boom")

    task = asyncio.create_task(broken())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="boom"):
        await cancel_and_wait(task)
