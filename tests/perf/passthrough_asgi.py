"""The benchmark's floor on ASGI: granian's ASGI interface on uvloop, 1 worker, one pooled
aiohttp session, doing nothing but pass requests through to one upstream and relay the
reply (whole, or chunk by chunk for streams): what any ASGI gateway on this stack pays
(Litestar apps, FastAPI, ...), and the interface ``inferia serve`` uses.
tests/perf/passthrough_rsgi.py is the same on granian's RSGI interface, for scale.

``POST /NAME/v1/...`` goes to upstream NAME's ``/v1/...``.
Run: python -m tests.perf.passthrough_asgi --port P --upstream NAME=URL [--upstream ...]
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

import aiohttp

JSON = [(b"content-type", b"application/json")]
SSE = [(b"content-type", b"text/event-stream")]
UPSTREAM_HEADERS = {"content-type": "application/json"}


class PassThrough:
    def __init__(self) -> None:
        self.upstreams: dict[str, str] = json.loads(os.environ["BENCH_UPSTREAMS"])
        self.session: aiohttp.ClientSession | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        assert self.session is not None
        _, name, path = scope["path"].split("/", 2)
        async with self.session.post(
            f"{self.upstreams[name]}/{path}", data=body, headers=UPSTREAM_HEADERS
        ) as reply:
            if reply.content_type == "text/event-stream":
                await send({"type": "http.response.start", "status": 200, "headers": SSE})
                while data := await reply.content.readany():
                    await send({"type": "http.response.body", "body": data, "more_body": True})
                await send({"type": "http.response.body", "body": b""})
            else:
                data = await reply.read()
                await send({"type": "http.response.start", "status": 200, "headers": JSON})
                await send({"type": "http.response.body", "body": data})

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
                await send({"type": "lifespan.startup.complete"})
            else:
                if self.session is not None:
                    await self.session.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def app() -> PassThrough:
    return PassThrough()


def serve(target: str, *, rsgi: bool = False) -> None:
    """Serve ``target`` (1 worker, uvloop) for the upstreams given on the command line."""
    from granian.constants import Interfaces, Loops
    from granian.server import Server

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", action="append", required=True, help="NAME=URL")
    args = parser.parse_args()
    upstreams = dict(item.split("=", 1) for item in args.upstream)
    os.environ["BENCH_UPSTREAMS"] = json.dumps(upstreams)
    Server(
        target,
        address="127.0.0.1",
        port=args.port,
        interface=Interfaces.RSGI if rsgi else Interfaces.ASGI,
        workers=1,
        loop=Loops.uvloop,
        factory=True,
        log_enabled=False,
    ).serve()


if __name__ == "__main__":
    serve("tests.perf.passthrough_asgi:app")
