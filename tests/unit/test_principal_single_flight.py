"""The principal cache's single flight: one source lookup per expired key, however many
requests miss at once, and none shared across an invalidation; a busy key is refreshed
in the background, without making a request wait."""

from __future__ import annotations

import asyncio

from inferia.contracts.principal_cache import PrincipalCache
from inferia.contracts.principals import API_KEY_CHANGES_CHANNEL, Principal
from inferia.contracts.resolvers import CachedPrincipalResolver
from inferia.state import build_state_backend


class SlowSource:
    """A resolver whose answers take a while and name the lookup that produced them."""

    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()

    async def resolve(self, credential: str) -> Principal | None:
        self.calls += 1
        call = self.calls
        await self.release.wait()
        return Principal(organization_id="org", key_id="key-1", name=f"lookup-{call}")


async def test_concurrent_misses_share_one_lookup() -> None:
    source = SlowSource()
    resolver = CachedPrincipalResolver(source, build_state_backend(""), PrincipalCache())
    waiting = [asyncio.create_task(resolver.resolve("sk-inf-a")) for _ in range(50)]
    await asyncio.sleep(0)
    source.release.set()
    principals = await asyncio.gather(*waiting)
    assert source.calls == 1
    assert {p.name for p in principals if p is not None} == {"lookup-1"}
    # Answered from the cache from now on.
    assert await resolver.resolve("sk-inf-a") == principals[0]
    assert source.calls == 1


async def test_requests_after_an_invalidation_do_not_join_an_older_lookup() -> None:
    state = build_state_backend("")
    await state.start()
    source = SlowSource()
    resolver = CachedPrincipalResolver(source, state, PrincipalCache())
    await resolver.start()
    try:
        before = asyncio.create_task(resolver.resolve("sk-inf-a"))
        await asyncio.sleep(0)
        await state.publish(API_KEY_CHANGES_CHANNEL, b"key-1")  # e.g. the key was revoked
        for _ in range(20):
            await asyncio.sleep(0)
        after = asyncio.create_task(resolver.resolve("sk-inf-a"))
        await asyncio.sleep(0)
        source.release.set()
        first, second = await asyncio.gather(before, after)
        assert source.calls == 2
        assert first is not None and first.name == "lookup-1"
        assert second is not None and second.name == "lookup-2"
    finally:
        await resolver.close()
        await state.close()


class CountingSource:
    """Answers at once; ``revoked`` makes it answer "no such key"."""

    def __init__(self) -> None:
        self.calls = 0
        self.revoked = False

    async def resolve(self, credential: str) -> Principal | None:
        self.calls += 1
        if self.revoked:
            return None
        return Principal(organization_id="org", key_id="key-1", name=f"lookup-{self.calls}")


async def test_a_busy_key_is_refreshed_ahead_without_waiting() -> None:
    source = CountingSource()
    resolver = CachedPrincipalResolver(source, build_state_backend(""), PrincipalCache(ttl_s=0.2))
    first = await resolver.resolve("sk-inf-a")
    assert first is not None and first.name == "lookup-1" and source.calls == 1
    await asyncio.sleep(0.12)  # past half the TTL
    source.revoked = True
    # Answered from the cache (no await on the source), one lookup started behind it.
    answers = [await resolver.resolve("sk-inf-a") for _ in range(5)]
    assert [a.name if a else None for a in answers] == ["lookup-1"] * 5
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert source.calls == 2
    # The refresh saw the revocation: refused from now on, long before the TTL ran out.
    assert await resolver.resolve("sk-inf-a") is None
