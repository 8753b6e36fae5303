-- wrk at a fixed request rate (wrk has no such mode; wrk2 is not packaged in Debian).
-- The benchmark prepends wrk.method/body/headers. Usage: wrk -t1 -cN -s FILE URL -- RATE
-- One schedule per wrk thread: each request takes the next slot (1/RATE s apart) and
-- waits for it; with enough connections (> RATE x latency) every slot is taken on time.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } inferia_timespec;
int clock_gettime(int clk_id, inferia_timespec *tp);
]]
local now = ffi.new("inferia_timespec")
local CLOCK_MONOTONIC = 1
local interval_ms = 5
local next_slot = nil

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now)
  return tonumber(now.tv_sec) * 1000 + tonumber(now.tv_nsec) / 1e6
end

function init(args)
  interval_ms = 1000 / tonumber(args[1])
end

function delay()
  local t = now_ms()
  next_slot = (next_slot or t) + interval_ms
  return math.max(0, next_slot - t)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, "errors": %d}\n',
    summary.requests, latency:percentile(50), latency:percentile(99), latency.max,
    e.status + e.connect + e.read + e.write + e.timeout))
end
