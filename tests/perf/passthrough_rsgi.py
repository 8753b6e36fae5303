"""The benchmark's floor on granian's RSGI interface, for scale: tests/perf/passthrough_asgi.py
on RSGI (``inferia serve`` was served on it until December 2026; docs/performance.md),
doing nothing but pass requests through to one upstream and relay the reply (whole, or
chunk by chunk for streams).

``POST /NAME/v1/...`` goes to upstream NAME's ``/v1/...``.
Run: python -m tests.perf.passthrough_rsgi --port P --upstream NAME=URL [--upstream ...]
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import aiohttp

from tests.perf.passthrough_asgi import UPSTREAM_HEADERS, serve

JSON = [("content-type", "application/json")]
SSE = [("content-type", "text/event-stream")]


class PassThrough:
    def __init__(self) -> None:
        self.upstreams: dict[str, str] = json.loads(os.environ["BENCH_UPSTREAMS"])
        self.session: aiohttp.ClientSession | None = None

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.run_until_complete(self._open())

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.session is not None:
            loop.run_until_complete(self.session.close())

    async def _open(self) -> None:
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        body = await protocol()
        assert self.session is not None
        _, name, path = scope.path.split("/", 2)
        async with self.session.post(
            f"{self.upstreams[name]}/{path}", data=body, headers=UPSTREAM_HEADERS
        ) as reply:
            if reply.content_type == "text/event-stream":
                transport = protocol.response_stream(200, SSE)
                while data := await reply.content.readany():
                    await transport.send_bytes(data)
            else:
                protocol.response_bytes(200, JSON, await reply.read())


def app() -> PassThrough:
    return PassThrough()


if __name__ == "__main__":
    serve("tests.perf.passthrough_rsgi:app", rsgi=True)
