"""Redis Streams pieces the backend needs beyond single commands."""

from __future__ import annotations

import hashlib
from typing import Any

from inferia.state.base import StreamMessage

PAYLOAD_FIELD = "p"

# XAUTOCLAIM does not report delivery counts, so read each claimed entry's count
# from XPENDING in the same atomic call. It follows the cursor (bounded rounds)
# because one XAUTOCLAIM scans only COUNT*10 pending entries.
CLAIM_STALE_LUA = """
local count = tonumber(ARGV[4])
local claimed = {}
local cursor = '0-0'
for _ = 1, 10 do
  local reply = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], cursor,
                           'COUNT', count - #claimed)
  cursor = reply[1]
  for _, entry in ipairs(reply[2]) do
    -- Redis 6.2 reports an entry trimmed while pending as nil (false); 7 omits it.
    if entry then
      local info = redis.call('XPENDING', KEYS[1], ARGV[1], entry[1], entry[1], 1)
      local deliveries = 1
      if info[1] then deliveries = info[1][4] end
      local payload = ''
      local fields = entry[2]
      for i = 1, #fields, 2 do
        if fields[i] == 'p' then payload = fields[i + 1] end
      end
      claimed[#claimed + 1] = {entry[1], payload, deliveries}
    end
  end
  if cursor == '0-0' or #claimed >= count then break end
end
return claimed
"""
CLAIM_STALE_SHA = hashlib.sha1(CLAIM_STALE_LUA.encode()).hexdigest()


def parse_read_reply(reply: Any) -> list[StreamMessage]:
    """XREADGROUP (RESP2): [[stream, [(id, {field: value}), ...]]] -> messages."""
    messages: list[StreamMessage] = []
    for _stream, entries in reply or ():
        for raw_id, fields in entries:
            if fields is None:  # entry deleted while pending (only for non-'>' reads)
                continue
            payload = fields.get(PAYLOAD_FIELD.encode(), b"")
            messages.append(StreamMessage(_text(raw_id), payload, 1))
    return messages


def parse_claim_reply(reply: Any) -> list[StreamMessage]:
    """The claim script's [[id, payload, deliveries], ...] -> messages."""
    return [
        StreamMessage(_text(raw_id), payload, int(deliveries))
        for raw_id, payload, deliveries in reply or ()
    ]


def stream_id(raw_id: Any) -> str:
    """XADD's reply (bytes: decode_responses is off) as the id string."""
    return raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
