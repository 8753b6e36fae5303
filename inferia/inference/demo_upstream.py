"""The demo upstream (``inferia serve --demo``): an OpenAI-compatible echo at ``/demo/v1``.

Not a model: it answers "[demo echo] " and the last user message, streamed word by word
when asked, with a usage block. It exists so the README's first chat works on a machine
with no model server (inferia/config/demo.py registers it as the model ``demo-echo``).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Controller, Response, post
from litestar.params import JSONBody
from litestar.response import Stream

from inferia.config.demo import DEMO_PATH

_PREFIX = "[demo echo] "
_encode = msgspec.json.Encoder().encode


def _last_user_text(body: dict[str, Any]) -> str:
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        return prompt
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):  # content parts: the text ones
                return " ".join(
                    str(p.get("text", "")) for p in content if isinstance(p, dict)
                ).strip()
    return ""


def _reply(body: dict[str, Any], chat: bool) -> Response[Any] | Stream:
    text = _PREFIX + (_last_user_text(body) or "(nothing to echo)")
    usage = {
        "prompt_tokens": len(_last_user_text(body).split()),
        "completion_tokens": len(text.split()),
    }
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    head = {
        "id": f"demo-{time.time_ns()}",
        "created": int(time.time()),
        "model": str(body.get("model") or "demo-echo"),
    }
    if body.get("stream"):
        return Stream(
            _events(head, text, usage, chat, _wants_usage(body)),
            media_type="text/event-stream",
        )
    if chat:
        choice: dict[str, Any] = {
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "finish_reason": "stop",
        }
        kind = "chat.completion"
    else:
        choice = {"index": 0, "text": text, "finish_reason": "stop"}
        kind = "text_completion"
    return Response({**head, "object": kind, "choices": [choice], "usage": usage})


def _wants_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and bool(options.get("include_usage"))


async def _events(
    head: dict[str, Any], text: str, usage: dict[str, int], chat: bool, with_usage: bool
) -> AsyncIterator[bytes]:
    kind = "chat.completion.chunk" if chat else "text_completion"

    def event(choices: list[Any], **extra: Any) -> bytes:
        return b"data: " + _encode({**head, "object": kind, "choices": choices, **extra}) + b"\n\n"

    words = text.split(" ")
    for index, word in enumerate(words):
        piece = word if index == len(words) - 1 else word + " "
        yield event(
            [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]
            if chat
            else [{"index": 0, "text": piece, "finish_reason": None}]
        )
    yield event(
        [{"index": 0, "delta": {}, "finish_reason": "stop"}]
        if chat
        else [{"index": 0, "text": "", "finish_reason": "stop"}]
    )
    if with_usage:
        yield event([], usage=usage)
    yield b"data: [DONE]\n\n"


class DemoUpstream(Controller):
    path = DEMO_PATH
    include_in_schema = False

    @post("/chat/completions", status_code=200)
    async def chat(self, data: JSONBody[dict[str, Any]]) -> Response[Any] | Stream:
        return _reply(data, chat=True)

    @post("/completions", status_code=200)
    async def completions(self, data: JSONBody[dict[str, Any]]) -> Response[Any] | Stream:
        return _reply(data, chat=False)
