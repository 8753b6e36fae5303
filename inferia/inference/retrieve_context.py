"""The retrieval half of the "shape prompt" step: knowledge-base chunks into the prompt.

Runs when a chat request names knowledge bases (``inferia.knowledge_bases``) or its
model has some (``/management/models`` ``knowledge_bases``, or inferia.toml's
``knowledge.model_knowledge_bases``); otherwise it returns after a dict lookup. The
last user turn is embedded and searched (through the ``Retriever`` port: in process,
or the policy plane's /internal/* in split mode), the chunks above ``min_score`` go
into one system message (``context_template``), and their citations come back as
``inferia.citations``: on the completion, and on a last chunk of a stream before
``[DONE]``. Nothing is cited that was not injected.
"""

from __future__ import annotations

from typing import Any

import msgspec

from inferia.config import KnowledgeSettings
from inferia.contracts.knowledge import RetrievedChunk, Retriever
from inferia.inference.knowledge_options import EXTENSION, extension_of, knowledge_options
from inferia.inference.pipeline import RequestContext, Step, StreamTransform

_CITATIONS = "knowledge.citations"


class RetrieveContext(Step):
    name = "retrieve_context"

    def __init__(self, retriever: Retriever, settings: KnowledgeSettings) -> None:
        self._retriever = retriever
        self._settings = settings
        self._defaults = {
            model: tuple(names) for model, names in settings.model_knowledge_bases.items()
        }

    async def before_upstream(self, ctx: RequestContext) -> None:
        if (
            EXTENSION not in ctx.body
            and EXTENSION not in ctx.extras
            and not ctx.default_knowledge_bases
            and not self._defaults
        ):
            return  # not configured for this request: costs nothing more
        options = knowledge_options(extension_of(ctx), self._settings.max_top_k)
        names = options.knowledge_bases if options and options.knowledge_bases else None
        names = names or ctx.default_knowledge_bases or self._defaults.get(ctx.model)
        if not names or ctx.api != "chat.completions":
            return
        query = _last_user_text(ctx.body.get("messages"))
        if not query:
            return
        top_k = (options.top_k if options else None) or self._settings.default_top_k
        chunks = await self._retriever.retrieve(ctx.principal.organization_id, names, query, top_k)
        if chunks:
            _inject(ctx.body["messages"], self._settings.context_template, chunks)
        ctx.extras[_CITATIONS] = [msgspec.to_builtins(chunk.citation) for chunk in chunks]

    def wants_reply(self, ctx: RequestContext) -> bool:
        return _CITATIONS in ctx.extras

    async def after_response(self, ctx: RequestContext, reply: dict[str, Any]) -> dict[str, Any]:
        extension = reply.setdefault(EXTENSION, {})
        if isinstance(extension, dict):
            extension["citations"] = ctx.extras[_CITATIONS]
        return reply

    def stream_transform(self, ctx: RequestContext) -> StreamTransform | None:
        citations = ctx.extras.get(_CITATIONS)
        return None if citations is None else _CitationsAtEnd(citations)


class _CitationsAtEnd:
    """Passes the stream through and adds one chunk with the citations at its end."""

    def __init__(self, citations: list[Any]) -> None:
        self._citations = citations
        self._head: dict[str, Any] = {}

    def on_chunk(self, chunk: dict[str, Any]) -> dict[str, Any] | None:
        if not self._head:
            self._head = {k: chunk[k] for k in ("id", "created", "model") if k in chunk}
        return chunk

    def on_end(self) -> list[dict[str, Any]]:
        return [
            {
                **self._head,
                "object": "chat.completion.chunk",
                "choices": [],
                EXTENSION: {"citations": self._citations},
            }
        ]


def _last_user_text(messages: Any) -> str:
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content.strip()
            if isinstance(content, list):
                parts = [
                    part.get("text", "")
                    for part in content
                    if isinstance(part, dict) and part.get("type") == "text"
                ]
                return " ".join(p for p in parts if isinstance(p, str)).strip()
            return ""
    return ""


def _inject(messages: list[Any], template: str, chunks: list[RetrievedChunk]) -> None:
    """One system message with the numbered chunks, after the leading system messages."""
    passages = "\n\n".join(
        f"[{number}] {chunk.citation.title} (part {chunk.citation.position + 1})\n{chunk.text}"
        for number, chunk in enumerate(chunks, start=1)
    )
    at = 0
    while (
        at < len(messages)
        and isinstance(messages[at], dict)
        and messages[at].get("role")
        in (
            "system",
            "developer",
        )
    ):
        at += 1
    messages.insert(at, {"role": "system", "content": template.replace("{context}", passages)})
