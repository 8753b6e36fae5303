"""Token counting: prompts for admission, and the usage of upstreams that report none
(``counted_usage``, ``reply_usage``); tiktoken, offline.

The encodings are installed offline by ``inferia.core.tiktoken_files``. They are loaded lazily:
most upstreams report usage, and an encoding costs tens of MB.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from hashlib import blake2b
from typing import Any

import tiktoken

# Re-exported: the tests and benchmarks install the encodings from here.
from inferia.core.tiktoken_files import install_encodings as install_encodings
from inferia.inference.pipeline import RequestContext, Usage

_O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o")

# Texts over this size (characters, or bytes of the request body) are counted in a
# worker thread: tiktoken releases the GIL, and 4 MB of text costs it 0.15 s (prose) to
# 1.7 s (one long run of letters), which on the event loop would stall every request.
OFF_LOOP_SIZE = 65_536


async def counted_off_loop(size: int, count: Callable[..., int], *args: Any) -> int:
    """``count(*args)`` (a TokenCounter method), in a worker thread when ``size`` (of the
    texts it counts) is over OFF_LOOP_SIZE; the memo's dict is safe to share."""
    if size <= OFF_LOOP_SIZE:
        return count(*args)
    return await asyncio.to_thread(count, *args)


# Prompt texts whose token counts are remembered, per encoding (by digest: the texts
# themselves are not kept). A longer text is counted every time.
_MEMO_ENTRIES = 20_000
_MEMO_MAX_TEXT = 100_000
# Chat roles every request repeats, counted once per encoding: a role costs a dict
# lookup instead of a digest. ("": no role, no tokens.)
_ROLES = ("", "system", "developer", "user", "assistant", "tool", "function")


class _Memo:
    """The token counts of prompt texts seen recently, for one encoding.

    A request's prompt mostly repeats earlier ones: the message roles always, an
    application's system prompt, and a conversation's history, which a chat client
    resends with every turn. A text seen before costs a hash and a dict lookup instead
    of tiktoken. Keys are 16-byte BLAKE2b digests, so no prompt text outlives its
    request in this memory; when the memo is full it is emptied and refills.
    """

    __slots__ = ("counts", "encoding", "roles")

    def __init__(self, encoding: tiktoken.Encoding) -> None:
        self.encoding = encoding
        self.counts: dict[bytes, int] = {}
        self.roles = {role: len(encoding.encode_ordinary(role)) for role in _ROLES}

    def tokens(self, text: str) -> int:
        if len(text) > _MEMO_MAX_TEXT:
            return len(self.encoding.encode_ordinary(text))
        key = blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        found = self.counts.get(key)
        if found is not None:
            return found
        # encode_ordinary: special-token text counts as plain text, as in
        # encode(text, disallowed_special=()), without the special-token checks.
        tokens = len(self.encoding.encode_ordinary(text))
        if len(self.counts) >= _MEMO_ENTRIES:
            self.counts.clear()
        self.counts[key] = tokens
        return tokens


class TokenCounter:
    def __init__(self) -> None:
        # Encoding name -> its memo (and the encoding).
        self._memos: dict[str, _Memo] = {}
        # Model name -> its encoding's memo; models reaching here exist in the routing table.
        self._by_model: dict[str, _Memo] = {}

    def _memo(self, model: str) -> _Memo:
        memo = self._by_model.get(model)
        if memo is not None:
            return memo
        name = "o200k_base" if model.lower().startswith(_O200K_PREFIXES) else "cl100k_base"
        memo = self._memos.get(name)
        if memo is None:
            memo = self._memos[name] = _Memo(tiktoken.get_encoding(name))
        if len(self._by_model) < 1024:
            self._by_model[model] = memo
        return memo

    def count(self, model: str, text: str) -> int:
        """``text``'s tokens, counted each time (a reply: seldom seen twice)."""
        # encode_ordinary: special-token text counts as plain text, as in
        # encode(text, disallowed_special=()), without the special-token checks.
        return len(self._memo(model).encoding.encode_ordinary(text)) if text else 0

    def prompt_tokens(self, model: str, api: str, body: dict[str, Any]) -> int:
        """The prompt's tokens; texts seen recently are not counted again (``_Memo``)."""
        memo = self._memo(model)
        tokens = memo.tokens
        if api == "chat.completions":
            # OpenAI's accounting: 3 tokens of framing per message, 3 to prime the reply.
            total = 3
            roles = memo.roles
            for message in body.get("messages") or ():
                if isinstance(message, dict):
                    total += 3
                    content = message.get("content")
                    if isinstance(content, str):
                        if content:
                            total += tokens(content)
                    else:
                        for text in _texts(content):
                            if text:
                                total += tokens(text)
                    role = message.get("role", "")
                    if type(role) is not str:
                        role = str(role) if role is not None else ""
                    known = roles.get(role)
                    total += known if known is not None else tokens(role)
            return total
        total = 0
        for text in _texts(body.get("prompt") or body.get("input")):
            if text:
                total += tokens(text)
        return total


def _texts(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        out: list[str] = []
        for item in value:
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, dict) and isinstance(item.get("text"), str):
                out.append(item["text"])
        return out
    return []


async def counted_usage(counter: TokenCounter, ctx: RequestContext, completion: str) -> Usage:
    """The usage of a request whose upstream reported none: its prompt and
    ``completion`` counted with tiktoken."""
    return Usage(
        await counted_off_loop(ctx.body_size, counter.prompt_tokens, ctx.model, ctx.api, ctx.body),
        await counted_off_loop(len(completion), counter.count, ctx.model, completion),
    )


async def reply_usage(
    counter: TokenCounter, ctx: RequestContext, document: dict[str, Any]
) -> Usage:
    """``counted_usage`` of a whole (non-streamed) reply: the text of its choices."""
    texts: list[str] = []
    for choice in document.get("choices") or ():
        if isinstance(choice, dict):
            message = choice.get("message")
            if isinstance(message, dict) and isinstance(message.get("content"), str):
                texts.append(message["content"])
            elif isinstance(choice.get("text"), str):
                texts.append(choice["text"])
    return await counted_usage(counter, ctx, "".join(texts))
