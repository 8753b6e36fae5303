"""A minimal OpenAI-compatible model server: the stand-in for a real engine in the
orchestration tests that do not need a real model (they start it through the
``openai-compatible`` engine, exactly as a user's own server command would be).

    python tiny_model_server.py --port P --api-key KEY --name MODEL [--never-ready]
        [--ready-after SECONDS]

Requires the key on every request (as llama.cpp's and vLLM's servers do with
``--api_key``); ``--never-ready`` answers 503 to everything, ``--ready-after`` for that
long after it starts (a model that takes time to load).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

from aiohttp import web


def app(api_key: str, name: str, never_ready: bool, ready_after_s: float = 0) -> web.Application:
    ready_at = time.monotonic() + ready_after_s

    async def guard(request: web.Request) -> web.Response | None:
        if never_ready or time.monotonic() < ready_at:
            return web.json_response({"error": "loading"}, status=503)
        if request.headers.get("authorization") != f"Bearer {api_key}":
            return web.json_response({"error": "bad key"}, status=401)
        return None

    async def models(request: web.Request) -> web.Response:
        return await guard(request) or web.json_response(
            {"object": "list", "data": [{"id": name, "object": "model"}]}
        )

    async def chat(request: web.Request) -> web.Response:
        refused = await guard(request)
        if refused:
            return refused
        body = await request.json()
        # A slow answer, for tests of requests in flight (the gateway forwards the field).
        await asyncio.sleep(float(body.get("tiny_sleep_s", 0)))
        return web.json_response(
            {
                "id": "chatcmpl-tiny",
                "object": "chat.completion",
                "created": 0,
                "model": body.get("model", name),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": f"pid {os.getpid()}"},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
            }
        )

    application = web.Application()
    application.router.add_get("/v1/models", models)
    application.router.add_post("/v1/chat/completions", chat)
    return application


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--never-ready", action="store_true")
    parser.add_argument("--ready-after", type=float, default=0)
    args = parser.parse_args()
    web.run_app(
        app(args.api_key, args.name, args.never_ready, args.ready_after),
        host="127.0.0.1",
        port=args.port,
    )
