"""The reconciler lease on both state backends: one holder, renewal, handover, fencing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from inferia.orchestration.reconciler.lease import Lease
from inferia.state import StateBackend, build_state_backend
from tests.services import require_redis


@pytest.fixture(params=["memory", "redis"])
async def state(request: pytest.FixtureRequest) -> AsyncIterator[StateBackend]:
    url = "" if request.param == "memory" else require_redis()
    backend = build_state_backend(url)
    await backend.start()
    yield backend
    await backend.close()


async def test_one_holder_then_handover_with_a_larger_token(state: StateBackend) -> None:
    scope = uuid.uuid4().hex
    first = Lease(state, "a", ttl_s=0.3, scope=scope)
    second = Lease(state, "b", ttl_s=0.3, scope=scope)
    token = await first.acquire_or_renew()
    assert token > 0
    assert await second.acquire_or_renew() == 0
    assert await first.acquire_or_renew() == token  # renewal keeps the token
    await asyncio.sleep(0.45)  # the first holder "died": nothing renewed it
    taken = await second.acquire_or_renew()
    assert taken > token
    assert await first.acquire_or_renew() == 0


async def test_release_hands_over_at_once(state: StateBackend) -> None:
    scope = uuid.uuid4().hex
    first = Lease(state, "a", ttl_s=30, scope=scope)
    second = Lease(state, "b", ttl_s=30, scope=scope)
    await first.acquire_or_renew()
    await first.release()
    assert await second.acquire_or_renew() > 0
    await second.release()
