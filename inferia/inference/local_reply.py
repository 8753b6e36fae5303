"""/v1/embeddings for the models of the local embeddings plugin: answered in process.

The request has been admitted and guarded like any other; instead of an upstream call
the plugin embeds the input (in a worker thread), and the reply has the OpenAI shape,
``float`` or ``base64`` (little-endian float32, what the openai SDK asks for by default).
Usage is the input counted with tiktoken.
"""

from __future__ import annotations

import base64
import sys
from array import array
from typing import Any

import msgspec

from inferia.core.errors import BadRequestError, PermissionDeniedError
from inferia.inference.local_embeddings import LocalEmbeddings
from inferia.inference.pipeline import RequestContext
from inferia.inference.tokens import TokenCounter, counted_usage

_encode = msgspec.json.Encoder().encode
# Texts of one request: the plugin holds them all in one batch.
_MAX_INPUTS = 256


class LocalEmbeddingsReply:
    def __init__(self, local: LocalEmbeddings, counter: TokenCounter) -> None:
        self._local = local
        self._counter = counter

    def serves(self, model: str) -> bool:
        return self._local.serves(model)

    async def answer(self, ctx: RequestContext) -> bytes:
        if not ctx.principal.may_use(ctx.model):
            raise PermissionDeniedError(
                f"This API key may not use the model '{ctx.model}'.", param="model"
            )
        texts = _texts(ctx.body.get("input"))
        vectors = await self._local.embed(texts)
        ctx.usage = await counted_usage(self._counter, ctx, "")
        as_base64 = ctx.body.get("encoding_format") == "base64"
        data: list[dict[str, Any]] = [
            {"object": "embedding", "index": index, "embedding": _base64(v) if as_base64 else v}
            for index, v in enumerate(vectors)
        ]
        tokens = ctx.usage.prompt_tokens
        return _encode(
            {
                "object": "list",
                "data": data,
                "model": ctx.model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )


def _texts(value: Any) -> list[str]:
    texts = [value] if isinstance(value, str) else value
    if not isinstance(texts, list) or not all(isinstance(t, str) and t for t in texts):
        raise BadRequestError(
            "'input' must be a non-empty string or a list of them for this model.", param="input"
        )
    if len(texts) > _MAX_INPUTS:
        raise BadRequestError(f"'input' holds at most {_MAX_INPUTS} texts.", param="input")
    return texts


def _base64(vector: list[float]) -> str:
    floats = array("f", vector)
    if sys.byteorder != "little":
        floats.byteswap()
    return base64.b64encode(floats.tobytes()).decode()
