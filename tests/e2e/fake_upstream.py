"""A fake OpenAI-compatible model server: the test double of an upstream.

Runs in its own process (``FakeUpstream`` starts it), listening on several ports, one
"instance" per port, so one process stands for several endpoints. Each instance has a
behaviour (latency, status, malformed replies, slow chunks, mid-stream failure...),
set through ``POST /_control/behaviour``; a request may override it with a ``"fake"``
object in its body (which the gateway forwards like any unknown field). Every request
is recorded (instance, path, body, headers, and for streams whether and when the client
went away): ``GET /_control/requests``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from typing import Any

import httpx
from aiohttp import web

DEFAULT_BEHAVIOUR: dict[str, Any] = {
    "latency_s": 0.0,  # before the reply (headers) starts
    "status": 200,
    "error_message": "fake failure",
    "error_code": None,
    "malformed": False,  # 200 with a body that is not JSON
    "hang": False,  # never answer
    "reset": False,  # drop the connection before answering anything
    "content": "Hello from the fake upstream.",
    "chunks": 5,  # content events per stream (one word each)
    "chunk_delay_s": 0.0,
    "fail_after_chunks": None,  # drop the connection after N content events
    "usage": True,  # report usage (when asked, for streams)
    "omit_done": False,
    "redirect_to": None,  # answer `status` (a 3xx) with this Location
    "error_type": "fake",  # the error body's "type"
    "usage_choices": [],  # the usage chunk's "choices" (LiteLLM: [{"index": 0, "delta": {}}])
    "final_text": True,  # legacy completions: the final chunk carries "text": ""
}


class Upstream:
    def __init__(self) -> None:
        self.behaviours: dict[str, dict[str, Any]] = {}
        self.records: list[dict[str, Any]] = []

    def behaviour(self, instance: str, body: dict[str, Any]) -> dict[str, Any]:
        merged = {**DEFAULT_BEHAVIOUR, **self.behaviours.get(instance, {})}
        override = body.get("fake")
        if isinstance(override, dict):
            merged.update(override.get(instance, override))
        return merged

    async def handle(self, request: web.Request) -> web.StreamResponse:
        instance = request.app["instance"]
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"_raw": raw.decode(errors="replace")}
        record: dict[str, Any] = {
            "instance": instance,
            "path": request.path,
            "body": body,
            "headers": dict(request.headers),
            "received_at": time.time(),
            "disconnected_at": None,
            "completed": False,
        }
        self.records.append(record)
        b = self.behaviour(instance, body)
        try:
            return await self._answer(request, body, b, record)
        except (asyncio.CancelledError, ConnectionResetError):
            record["disconnected_at"] = time.time()
            raise

    async def _answer(
        self, request: web.Request, body: dict[str, Any], b: dict[str, Any], record: dict[str, Any]
    ) -> web.StreamResponse:
        if b["hang"]:
            await asyncio.sleep(3600)
        if b["reset"]:
            assert request.transport is not None
            request.transport.abort()
            raise ConnectionResetError("fake reset")
        if b["latency_s"]:
            await asyncio.sleep(b["latency_s"])
        if b["redirect_to"]:
            return web.Response(status=b["status"], headers={"Location": b["redirect_to"]})
        if b["status"] != 200:
            error = {
                "message": b["error_message"],
                "type": b["error_type"],
                "code": b["error_code"],
            }
            return web.json_response({"error": error}, status=b["status"])
        if b["malformed"]:
            return web.Response(text="<html>not json", content_type="text/html")
        model = body.get("model", "?")
        path = request.path
        if path.endswith("/embeddings"):
            inputs = body.get("input")
            count = len(inputs) if isinstance(inputs, list) else 1
            data = [
                {"object": "embedding", "index": i, "embedding": [0.1, 0.2, 0.3]}
                for i in range(count)
            ]
            record["completed"] = True
            return web.json_response(
                {
                    "object": "list",
                    "data": data,
                    "model": model,
                    "usage": {"prompt_tokens": 4 * count, "total_tokens": 4 * count},
                }
            )
        chat = path.endswith("/chat/completions")
        if body.get("stream"):
            return await self._stream(request, body, b, record, chat)
        usage = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
        if chat:
            message: dict[str, Any] = {"role": "assistant", "content": b["content"]}
            finish = "stop"
            if body.get("tools"):
                tool = body["tools"][0]["function"]["name"]
                message = {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": tool, "arguments": '{"city": "Paris"}'},
                        }
                    ],
                }
                finish = "tool_calls"
            choice: dict[str, Any] = {"index": 0, "message": message, "finish_reason": finish}
            reply: dict[str, Any] = {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": 1,
                "model": model,
                "choices": [choice],
            }
        else:
            reply = {
                "id": "cmpl-fake",
                "object": "text_completion",
                "created": 1,
                "model": model,
                "choices": [{"index": 0, "text": b["content"], "finish_reason": "stop"}],
            }
        if b["usage"]:
            reply["usage"] = usage
        record["completed"] = True
        return web.json_response(reply)

    async def _stream(
        self,
        request: web.Request,
        body: dict[str, Any],
        b: dict[str, Any],
        record: dict[str, Any],
        chat: bool,
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        model = body.get("model", "?")
        kind = "chat.completion.chunk" if chat else "text_completion"
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        words = b["content"].split(" ")
        # Word by word, cycling through the content when more chunks are asked for.
        pieces = [words[i % len(words)] + " " for i in range(b["chunks"])]

        def event(choices: list[Any], usage: Any = None) -> bytes:
            chunk: dict[str, Any] = {
                "id": "chunk-fake",
                "object": kind,
                "created": 1,
                "model": model,
                "choices": choices,
            }
            if include_usage:
                chunk["usage"] = usage
            return b"data: " + json.dumps(chunk).encode() + b"\n\n"

        for index, piece in enumerate(pieces):
            if b["fail_after_chunks"] is not None and index >= b["fail_after_chunks"]:
                assert request.transport is not None
                request.transport.abort()
                record["aborted"] = True
                return response
            choice = (
                {"index": 0, "delta": {"content": piece}, "finish_reason": None}
                if chat
                else {"index": 0, "text": piece, "finish_reason": None}
            )
            await response.write(event([choice]))
            if b["chunk_delay_s"]:
                await asyncio.sleep(b["chunk_delay_s"])
        final = (
            {"index": 0, "delta": {}, "finish_reason": "stop"}
            if chat
            else {"index": 0, "text": "", "finish_reason": "stop"}
        )
        if not b["final_text"]:
            final.pop("text", None)
        await response.write(event([final]))
        if include_usage and b["usage"]:
            await response.write(
                event(
                    b["usage_choices"],
                    {
                        "prompt_tokens": 11,
                        "completion_tokens": len(pieces),
                        "total_tokens": 11 + len(pieces),
                    },
                )
            )
        if not b["omit_done"]:
            await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        record["completed"] = True
        return response


def build_app(upstream: Upstream, instance: str) -> web.Application:
    app = web.Application(handler_args={"handler_cancellation": True})
    app["instance"] = instance

    async def behaviour(request: web.Request) -> web.Response:
        data = await request.json()
        name = data.pop("instance")
        if data.pop("reset", False):
            upstream.behaviours.pop(name, None)
        upstream.behaviours.setdefault(name, {}).update(data)
        return web.json_response({"ok": True})

    async def requests(_: web.Request) -> web.Response:
        return web.json_response(upstream.records)

    async def reset(_: web.Request) -> web.Response:
        upstream.records.clear()
        upstream.behaviours.clear()
        return web.json_response({"ok": True})

    app.router.add_post("/_control/behaviour", behaviour)
    app.router.add_get("/_control/requests", requests)
    app.router.add_post("/_control/reset", reset)
    app.router.add_get("/health", lambda _: _ok())
    # Any method: a redirected request (301-303 turn into GETs) must be recorded too.
    app.router.add_route("*", "/{tail:.*}", upstream.handle)
    return app


async def _ok() -> web.Response:
    return web.json_response({"ok": True})


async def serve(ports: list[int]) -> None:
    upstream = Upstream()
    runners = []
    for index, port in enumerate(ports):
        runner = web.AppRunner(
            build_app(upstream, chr(ord("a") + index)), access_log=None, handler_cancellation=True
        )
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
    await asyncio.Event().wait()


class FakeUpstream:
    """The fake in a subprocess; instance "a" is ``ports[0]``, "b" ``ports[1]``..."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.instances = [chr(ord("a") + i) for i in range(len(ports))]
        self.control = f"http://127.0.0.1:{ports[0]}/_control"
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, instance: str = "a") -> str:
        return f"http://127.0.0.1:{self.ports[self.instances.index(instance)]}/v1"

    def start(self) -> FakeUpstream:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.fake_upstream", *map(str, self.ports)]
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if all(
                    httpx.get(f"http://127.0.0.1:{p}/health").status_code == 200 for p in self.ports
                ):
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("fake upstream did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(5)

    def set(self, instance: str, **behaviour: Any) -> None:
        httpx.post(f"{self.control}/behaviour", json={"instance": instance, **behaviour})

    def reset(self) -> None:
        httpx.post(f"{self.control}/reset")

    def requests(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = httpx.get(f"{self.control}/requests").json()
        return records


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("ports", nargs="+", type=int)
    asyncio.run(serve(parser.parse_args().ports))
