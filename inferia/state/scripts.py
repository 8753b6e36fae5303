"""Atomic admission scripts, each as Lua (Redis) plus its Python twin (memory).

``SLIDING_WINDOW_ADMIT`` is a GCRA limiter written as a leaky bucket in integer
units: admitting ``cost`` adds ``cost * window_ms`` to a level that drains by
``limit`` every millisecond and may not exceed ``limit * window_ms``. That is
"at most ``limit`` per rolling ``window_ms``" (a full burst, then a steady
refill) in O(1) state with exact integer arithmetic: no float drift can refuse a
request that fits. Keep ``limit * window_ms`` below 2**53 (Lua numbers are
doubles), e.g. 100M tokens per day is fine.

keys: [bucket_key]; args: [limit, window_ms, cost]
returns: [admitted 0/1, remaining units, retry_after_ms] where retry_after_ms is
0 when admitted and -1 when ``cost`` exceeds ``limit`` (it can never fit).
A refusal changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from inferia.core.errors import StateError
from inferia.state.base import AtomicScript, ScriptArg
from inferia.state.local_store import LocalStore, Scalar

_SLIDING_WINDOW_LUA = """
local limit, window, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if not limit or not window or not cost or limit < 1 or window < 1 or cost < 0 then
  return redis.error_reply('ERR sliding_window_admit needs limit>=1 window_ms>=1 cost>=0')
end
limit, window, cost = math.floor(limit), math.floor(window), math.floor(cost)
-- The server's clock, so gateways with skewed clocks share one timeline.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local capacity = limit * window
local level = 0
local state = redis.call('HMGET', KEYS[1], 'l', 't')
if state[1] then
  level = tonumber(state[1])
  local elapsed = now - tonumber(state[2])
  if elapsed > 0 then level = math.max(0, level - elapsed * limit) end
end
local need = cost * window
if level + need > capacity then
  local retry = -1
  if cost <= limit then retry = math.ceil((level + need - capacity) / limit) end
  return {0, math.floor((capacity - level) / window), retry}
end
if need > 0 then
  level = level + need
  redis.call('HSET', KEYS[1], 'l', level, 't', now)
  -- Expire once fully drained: idle limiters cost no memory.
  redis.call('PEXPIRE', KEYS[1], math.ceil(level / limit) + 1)
end
return {1, math.floor((capacity - level) / window), 0}
"""


def _sliding_window_local(
    store: LocalStore, keys: Sequence[str], args: Sequence[ScriptArg], now: float
) -> list[int]:
    try:
        limit, window, cost = (math.floor(float(a)) for a in args[:3])
    except (TypeError, ValueError) as exc:
        raise StateError("sliding_window_admit needs numeric limit, window_ms, cost") from exc
    if limit < 1 or window < 1 or cost < 0:
        raise StateError("sliding_window_admit needs limit>=1 window_ms>=1 cost>=0")
    key = keys[0]
    now_ms = math.floor(now * 1000)
    capacity = limit * window
    level = 0
    stored_level, stored_at = store.hmget(key, "l", "t")
    if stored_level is not None and stored_at is not None:
        level = _as_int(stored_level)
        elapsed = now_ms - _as_int(stored_at)
        if elapsed > 0:
            level = max(0, level - elapsed * limit)
    need = cost * window
    if level + need > capacity:
        retry = math.ceil((level + need - capacity) / limit) if cost <= limit else -1
        return [0, (capacity - level) // window, retry]
    if need > 0:
        level += need
        store.hset(key, {"l": level, "t": now_ms})
        store.expire(key, (math.ceil(level / limit) + 1) / 1000)
    return [1, (capacity - level) // window, 0]


def _as_int(value: Scalar) -> int:
    return int(float(value))


SLIDING_WINDOW_ADMIT = AtomicScript(
    name="sliding_window_admit", lua=_SLIDING_WINDOW_LUA, local=_sliding_window_local
)
