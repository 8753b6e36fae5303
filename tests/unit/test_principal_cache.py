from __future__ import annotations

import time

from inferia.contracts.principal_cache import PrincipalCache
from inferia.contracts.principals import Principal


def principal(key_id: str = "k1", expires_at: float | None = None) -> Principal:
    return Principal(organization_id="o1", key_id=key_id, expires_at=expires_at)


def test_hit_miss_and_invalidation() -> None:
    cache = PrincipalCache()
    digest = cache.digest("sk-inf-x")
    assert cache.get(digest) == (False, None, False)
    cache.put(digest, principal())
    assert cache.get(digest) == (True, principal(), False)
    cache.invalidate_key("k1")
    assert cache.get(digest) == (False, None, False)


def test_expired_key_is_refused_on_a_hit_without_any_message() -> None:
    cache = PrincipalCache()
    digest = cache.digest("sk-inf-y")
    cache.put(digest, principal(expires_at=time.time() - 1))
    assert cache.get(digest) == (True, None, False)


def test_entries_expire_after_their_ttl() -> None:
    cache = PrincipalCache(ttl_s=0.0)
    digest = cache.digest("sk-inf-z")
    cache.put(digest, principal())
    assert cache.get(digest) == (False, None, False)


def test_size_is_bounded() -> None:
    cache = PrincipalCache(max_entries=10)
    for i in range(50):
        cache.put(cache.digest(str(i)), principal(key_id=str(i)))
    assert len(cache) == 10


def test_invalidation_bumps_generation() -> None:
    cache = PrincipalCache()
    before = cache.generation
    cache.invalidate_key("anything")
    assert cache.generation == before + 1


def test_a_hit_past_half_the_ttl_says_a_refresh_is_due() -> None:
    cache = PrincipalCache(ttl_s=0.2)
    digest = cache.digest("sk-inf-r")
    cache.put(digest, principal())
    assert cache.get(digest) == (True, principal(), False)
    time.sleep(0.11)
    assert cache.get(digest) == (True, principal(), True)
    time.sleep(0.1)
    assert cache.get(digest) == (False, None, False)
