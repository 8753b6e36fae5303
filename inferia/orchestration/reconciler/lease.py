"""The reconciler lease: one holder at a time across every process, with a fencing token.

``SET lease holder|token NX PX ttl`` when free; renewal extends it (PEXPIRE) only for
its holder; a new holder gets the next token (INCR on a counter that never expires).
Written as one ``AtomicScript`` (Lua on Redis, its Python twin on the memory backend),
so "is it free, take it, count the token" cannot interleave between processes. A
holder that dies stops renewing: the lease lapses after ``ttl`` and another process
takes it with a larger token; writes made with the old token are refused by the
deployment store (``fence``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from inferia.state import StateBackend
from inferia.state.base import AtomicScript, ScriptArg
from inferia.state.local_store import LocalStore

# Suffixed with a scope (a digest of the database's identity): processes that share a
# database share one lease; two installations on one Redis do not block each other.
LEASE_KEY = "inferia:orchestration:reconciler:lease"
FENCE_KEY = "inferia:orchestration:reconciler:fence"

_ACQUIRE_LUA = """
local current = redis.call('GET', KEYS[1])
if current then
  local sep = string.find(current, '|', 1, true)
  if string.sub(current, 1, sep - 1) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return tonumber(string.sub(current, sep + 1))
  end
  return 0
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. token, 'NX', 'PX', ARGV[2])
return token
"""

_RELEASE_LUA = """
local current = redis.call('GET', KEYS[1])
if current and string.sub(current, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. '|' then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""


def _acquire_local(
    store: LocalStore, keys: Sequence[str], args: Sequence[ScriptArg], _now: float
) -> int:
    holder, ttl_s = str(args[0]), int(args[1]) / 1000
    current = store.get(keys[0])
    if current is not None:
        text = current.decode() if isinstance(current, bytes) else str(current)
        owner, _, held = text.partition("|")
        if owner == holder:
            store.expire(keys[0], ttl_s)
            return int(held)
        return 0
    token = store.incr(keys[1])
    store.set(keys[0], f"{holder}|{token}", ttl_s)
    return token


def _release_local(
    store: LocalStore, keys: Sequence[str], args: Sequence[ScriptArg], _now: float
) -> int:
    current = store.get(keys[0])
    text = current.decode() if isinstance(current, bytes) else str(current)
    if current is not None and text.startswith(f"{args[0]}|"):
        store.delete(keys[0])
        return 1
    return 0


ACQUIRE = AtomicScript(name="reconciler_lease_acquire", lua=_ACQUIRE_LUA, local=_acquire_local)
RELEASE = AtomicScript(name="reconciler_lease_release", lua=_RELEASE_LUA, local=_release_local)


class Lease:
    """This process' claim on the lease. ``token`` is 0 while another process holds it."""

    def __init__(self, state: StateBackend, holder: str, ttl_s: float, scope: str) -> None:
        self._state = state
        self._keys = [f"{LEASE_KEY}:{scope}", f"{FENCE_KEY}:{scope}"]
        self.holder = holder
        self._ttl_ms = max(1, math.ceil(ttl_s * 1000))
        self.token = 0

    async def acquire_or_renew(self) -> int:
        """The fencing token if this process holds the lease now (taken or renewed)."""
        result = await self._state.run_script(ACQUIRE, self._keys, [self.holder, self._ttl_ms])
        self.token = int(result)
        return self.token

    async def release(self) -> None:
        if self.token:
            await self._state.run_script(RELEASE, self._keys[:1], [self.holder])
            self.token = 0
