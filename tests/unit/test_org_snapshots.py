"""The per-organisation snapshot cache's single flight (inferia.contracts.snapshots): one
load per expired organisation, and a request that goes away takes neither the load nor
the other waiting requests with it."""

from __future__ import annotations

import asyncio

import pytest

from inferia.contracts.snapshots import OrgSnapshots
from inferia.state import build_state_backend


class SlowLoad:
    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()

    async def __call__(self, organization_id: str) -> str:
        self.calls += 1
        await self.release.wait()
        return f"{organization_id}-{self.calls}"


def snapshots(load: SlowLoad) -> OrgSnapshots[str]:
    return OrgSnapshots(load, build_state_backend(""), "inferia:test:changed", ttl_s=60)


async def test_concurrent_misses_share_one_load() -> None:
    load = SlowLoad()
    cache = snapshots(load)
    waiting = [asyncio.create_task(cache.get("org")) for _ in range(20)]
    await asyncio.sleep(0)
    load.release.set()
    assert set(await asyncio.gather(*waiting)) == {"org-1"}
    assert await cache.get("org") == "org-1"
    assert load.calls == 1


async def test_a_cancelled_request_cancels_neither_the_load_nor_the_others() -> None:
    load = SlowLoad()
    cache = snapshots(load)
    first = asyncio.create_task(cache.get("org"))  # the one whose miss started the load
    await asyncio.sleep(0)
    others = [asyncio.create_task(cache.get("org")) for _ in range(5)]
    await asyncio.sleep(0)
    first.cancel()  # its client went away
    with pytest.raises(asyncio.CancelledError):
        await first
    load.release.set()
    assert set(await asyncio.gather(*others)) == {"org-1"}
    assert await cache.get("org") == "org-1"  # the load was cached all the same
    assert load.calls == 1


async def test_a_failed_load_reaches_every_waiter_and_is_not_cached() -> None:
    calls = 0

    async def failing(organization_id: str) -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        if calls == 1:
            raise RuntimeError("database down")
        return "org-ok"

    cache: OrgSnapshots[str] = OrgSnapshots(
        failing, build_state_backend(""), "inferia:test:changed", ttl_s=60
    )
    results = await asyncio.gather(*(cache.get("org") for _ in range(3)), return_exceptions=True)
    assert all(isinstance(result, RuntimeError) for result in results)
    assert await cache.get("org") == "org-ok"
