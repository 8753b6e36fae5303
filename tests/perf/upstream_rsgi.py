"""The benchmark's upstream: a minimal OpenAI-compatible server on granian's RSGI
interface (a few tens of µs of CPU per request), so it is never the bottleneck.

POST */chat/completions: a fixed reply with usage, after ``--latency-ms``; with
``"stream": true``, ``--events`` content events (``--event-gap-ms`` apart, the first one
after ``--latency-ms``), the usage chunk when asked for, then ``[DONE]``.
Run: python -m tests.perf.upstream_rsgi --port P [--latency-ms 50] [--events 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from typing import Any

REPLY = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1,
        "model": "bench",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello there, how can I help?"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 8, "total_tokens": 20},
    }
).encode()
CHUNK = (
    b'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1,'
    b'"model":"bench","choices":[{"index":0,"delta":{"content":"tok "},"finish_reason":null}]}\n\n'
)
CHUNK_WITH_NULL_USAGE = CHUNK.replace(b"]}\n\n", b'],"usage":null}\n\n')
USAGE = (
    b'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1,"model":"bench",'
    b'"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":100,"total_tokens":112}}\n\n'
)
JSON = [("content-type", "application/json")]
SSE = [("content-type", "text/event-stream")]


class App:
    def __init__(self) -> None:
        self.latency = float(os.environ.get("BENCH_LATENCY_MS", "0")) / 1000
        self.events = int(os.environ.get("BENCH_EVENTS", "100"))
        self.gap = float(os.environ.get("BENCH_EVENT_GAP_MS", "0")) / 1000

    async def __call__(self, scope: Any, proto: Any) -> None:
        body = await proto()
        if self.latency:
            await asyncio.sleep(self.latency)
        if b'"stream":true' not in body.replace(b" ", b""):
            proto.response_bytes(200, JSON, REPLY)
            return
        usage = b'"include_usage":true' in body.replace(b" ", b"")
        transport = proto.response_stream(200, SSE)
        chunk = CHUNK_WITH_NULL_USAGE if usage else CHUNK
        for _ in range(self.events):
            await transport.send_bytes(chunk)
            if self.gap:
                await asyncio.sleep(self.gap)
        if usage:
            await transport.send_bytes(USAGE)
        await transport.send_bytes(b"data: [DONE]\n\n")


def app() -> App:
    return App()


if __name__ == "__main__":
    from granian.constants import Interfaces, Loops
    from granian.server import Server

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--event-gap-ms", type=float, default=0)
    args = parser.parse_args()
    os.environ["BENCH_LATENCY_MS"] = str(args.latency_ms)
    os.environ["BENCH_EVENTS"] = str(args.events)
    os.environ["BENCH_EVENT_GAP_MS"] = str(args.event_gap_ms)
    Server(
        "tests.perf.upstream_rsgi:app",
        address="127.0.0.1",
        port=args.port,
        interface=Interfaces.RSGI,
        workers=1,
        loop=Loops.uvloop,
        factory=True,
        log_enabled=False,
    ).serve()
