"""The one atomic multi-limit script: check and charge every limit of a request together.

Each limit is a bucket key plus five numbers ``kind limit window tick_ms amount``, all
limits' numbers space-separated in ARGV[3] (one argument: the client encodes one string
instead of five per limit, which is most of its per-request cost):

- kind ``g`` (GCRA, for requests, tokens and cost): a leaky bucket in integer units,
  as ``inferia.state.SLIDING_WINDOW_ADMIT``. Time is counted in ticks of ``tick_ms``
  (1 ms for a minute window, coarser for days and months so ``limit * window`` stays
  below 2**53). Charging ``amount`` adds ``amount * window``; the level drains by
  ``limit`` per tick and may not pass ``limit * window``: "at most ``limit`` per rolling
  window", with no fixed-window boundary to burst across.
- kind ``c`` (concurrency): a sorted set of in-flight request ids scored by a deadline
  (now + ``amount`` ms), so a crashed gateway's slots free themselves.

ARGV[1] is the operation, ARGV[2] the request id (the concurrency member):

- ``a`` admit: check every limit first; if all fit, charge all. A refusal writes nothing
  (expired concurrency slots are swept, which no count can observe).
  Returns ``{admitted, refused_index (1-based, 0), retry_ms, then per limit: remaining,
  reset_ms}``; retry_ms is -1 when the request can never fit the refusing limit.
- ``s`` settle: add ``amount`` (the real minus the reserved units, possibly negative)
  to each ``g`` bucket, never below zero, and free the request's ``c`` slots.
  Returns ``{1}``.

The clock is the Redis server's (``TIME``), so gateways with skewed clocks agree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from inferia.core.errors import StateError
from inferia.state import AtomicScript, LocalStore, ScriptArg

ARGS_PER_LIMIT = 5

_LUA = """
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local op, member = ARGV[1], ARGV[2]
local n = #KEYS
local spec = {}
for word in string.gmatch(ARGV[3] or '', '%S+') do spec[#spec + 1] = word end
if #ARGV ~= 3 or #spec ~= n * 5 or (op ~= 'a' and op ~= 's') then
  return redis.error_reply('ERR admit_limits: bad arguments')
end
local kinds, limits, windows, ticks, amounts, levels, counts = {}, {}, {}, {}, {}, {}, {}
for i = 1, n do
  local b = (i - 1) * 5
  kinds[i] = spec[b + 1]
  limits[i] = tonumber(spec[b + 2])
  windows[i] = tonumber(spec[b + 3])
  ticks[i] = tonumber(spec[b + 4])
  amounts[i] = tonumber(spec[b + 5])
  if not limits[i] or not windows[i] or not ticks[i] or not amounts[i]
     or limits[i] < 1 or windows[i] < 1 or ticks[i] < 1 then
    return redis.error_reply('ERR admit_limits: bad limit arguments')
  end
end
if op == 's' then
  for i = 1, n do
    if kinds[i] == 'c' then
      redis.call('ZREM', KEYS[i], member)
    elseif amounts[i] ~= 0 then
      local now = math.floor(now_ms / ticks[i])
      local level = 0
      local st = redis.call('HMGET', KEYS[i], 'l', 't')
      if st[1] then
        level = tonumber(st[1])
        local elapsed = now - tonumber(st[2])
        if elapsed > 0 then level = math.max(0, level - elapsed * limits[i]) end
      end
      level = math.max(0, level + amounts[i] * windows[i])
      redis.call('HSET', KEYS[i], 'l', level, 't', now)
      redis.call('PEXPIRE', KEYS[i], (math.ceil(level / limits[i]) + 1) * ticks[i])
    end
  end
  return {1}
end
-- Phase 1: check everything, write nothing.
local refused, retry = 0, 0
for i = 1, n do
  local limit, window = limits[i], windows[i]
  if kinds[i] == 'c' then
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now_ms)
    counts[i] = redis.call('ZCARD', KEYS[i])
    if refused == 0 and counts[i] + 1 > limit then
      refused = i
      local first = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
      retry = 1000
      if first[2] then retry = math.max(1, tonumber(first[2]) - now_ms) end
    end
  else
    local now = math.floor(now_ms / ticks[i])
    local level = 0
    local st = redis.call('HMGET', KEYS[i], 'l', 't')
    if st[1] then
      level = tonumber(st[1])
      local elapsed = now - tonumber(st[2])
      if elapsed > 0 then level = math.max(0, level - elapsed * limit) end
    end
    levels[i] = level
    local cost = amounts[i]
    if refused == 0 and level + cost * window > limit * window then
      refused = i
      if cost > limit then
        retry = -1
      else
        retry = math.ceil((level + cost * window - limit * window) / limit) * ticks[i]
      end
    end
  end
end
local out = {0, refused, retry}
if refused == 0 then
  out[1] = 1
end
-- Phase 2: charge (only when everything fits) and report what is left.
for i = 1, n do
  local limit, window = limits[i], windows[i]
  if kinds[i] == 'c' then
    local count = counts[i]
    if refused == 0 then
      redis.call('ZADD', KEYS[i], now_ms + amounts[i], member)
      redis.call('PEXPIRE', KEYS[i], amounts[i])
      count = count + 1
    end
    out[#out + 1] = limit - count
    out[#out + 1] = 0
  else
    local level = levels[i]
    if refused == 0 and amounts[i] > 0 then
      level = level + amounts[i] * window
      local now = math.floor(now_ms / ticks[i])
      redis.call('HSET', KEYS[i], 'l', level, 't', now)
      redis.call('PEXPIRE', KEYS[i], (math.ceil(level / limit) + 1) * ticks[i])
    end
    out[#out + 1] = math.max(0, math.floor((limit * window - level) / window))
    out[#out + 1] = math.ceil(level / limit) * ticks[i]
  end
end
return out
"""


class _Limit:
    __slots__ = ("amount", "key", "kind", "limit", "tick", "window")

    def __init__(self, key: str, args: Sequence[str]) -> None:
        self.key = key
        self.kind = args[0]
        try:
            self.limit, self.window, self.tick, self.amount = (
                math.floor(float(a)) for a in args[1:5]
            )
        except (TypeError, ValueError) as exc:
            raise StateError("admit_limits: bad limit arguments") from exc
        if self.limit < 1 or self.window < 1 or self.tick < 1:
            raise StateError("admit_limits: bad limit arguments")


def _level(store: LocalStore, lim: _Limit, now: int) -> int:
    stored_level, stored_at = store.hmget(lim.key, "l", "t")
    if stored_level is None or stored_at is None:
        return 0
    level = int(float(stored_level))
    elapsed = now - int(float(stored_at))
    return max(0, level - elapsed * lim.limit) if elapsed > 0 else level


def _store_level(store: LocalStore, lim: _Limit, level: int, now: int) -> None:
    store.hset(lim.key, {"l": level, "t": now})
    store.expire(lim.key, (math.ceil(level / lim.limit) + 1) * lim.tick / 1000)


def _slots(store: LocalStore, key: str, now_ms: int) -> dict[str, int]:
    """The live concurrency slots (member -> deadline ms); expired ones are dropped."""
    slots = {m: int(float(d)) for m, d in store.hgetall(key).items()}
    live = {m: d for m, d in slots.items() if d > now_ms}
    if len(live) != len(slots):
        _write_slots(store, key, live)
    return live


def _write_slots(store: LocalStore, key: str, slots: dict[str, int]) -> None:
    ttl = store.ttl(key)
    store.delete(key)
    if slots:
        store.hset(key, dict(slots))
        if ttl is not None:
            store.expire(key, ttl)


def _admit_limits_local(
    store: LocalStore, keys: Sequence[str], args: Sequence[ScriptArg], now: float
) -> list[int]:
    spec = str(args[2]).split() if len(args) == 3 else []
    if len(spec) != len(keys) * ARGS_PER_LIMIT or args[0] not in ("a", "s"):
        raise StateError("admit_limits: bad arguments")
    op, member = str(args[0]), str(args[1])
    limits = [
        _Limit(key, spec[i * ARGS_PER_LIMIT : (i + 1) * ARGS_PER_LIMIT])
        for i, key in enumerate(keys)
    ]
    now_ms = math.floor(now * 1000)
    if op == "s":
        for lim in limits:
            if lim.kind == "c":
                slots = _slots(store, lim.key, now_ms)
                if slots.pop(member, None) is not None:
                    _write_slots(store, lim.key, slots)
            elif lim.amount != 0:
                tick_now = now_ms // lim.tick
                level = max(0, _level(store, lim, tick_now) + lim.amount * lim.window)
                _store_level(store, lim, level, tick_now)
        return [1]

    refused, retry = 0, 0
    observed: list[int] = []
    for index, lim in enumerate(limits, start=1):
        if lim.kind == "c":
            slots = _slots(store, lim.key, now_ms)
            observed.append(len(slots))
            if refused == 0 and len(slots) + 1 > lim.limit:
                refused = index
                retry = max(1, min(slots.values()) - now_ms) if slots else 1000
        else:
            level = _level(store, lim, now_ms // lim.tick)
            observed.append(level)
            capacity = lim.limit * lim.window
            need = lim.amount * lim.window
            if refused == 0 and level + need > capacity:
                refused = index
                excess = math.ceil((level + need - capacity) / lim.limit) * lim.tick
                retry = -1 if lim.amount > lim.limit else excess
    out = [1 if refused == 0 else 0, refused, retry]
    for lim, seen in zip(limits, observed, strict=True):
        if lim.kind == "c":
            count = seen
            if refused == 0:
                slots = _slots(store, lim.key, now_ms)
                slots[member] = now_ms + lim.amount
                store.hset(lim.key, {member: now_ms + lim.amount})
                store.expire(lim.key, lim.amount / 1000)
                count += 1
            out += [lim.limit - count, 0]
        else:
            level = seen
            if refused == 0 and lim.amount > 0:
                level += lim.amount * lim.window
                _store_level(store, lim, level, now_ms // lim.tick)
            out += [max(0, (lim.limit * lim.window - level) // lim.window)]
            out += [math.ceil(level / lim.limit) * lim.tick]
    return out


ADMIT_LIMITS = AtomicScript(name="admit_limits", lua=_LUA, local=_admit_limits_local)
