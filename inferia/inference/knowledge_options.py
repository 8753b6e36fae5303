"""The knowledge keys of the request extension field ``inferia``:
``extra_body={"inferia": {"knowledge_bases": ["handbook"], "top_k": 4}}``.

The ``inferia`` object never goes upstream: the first step that reads it takes it out
of the body and keeps it in ``ctx.extras["inferia"]`` for the others. Other keys of it
(templates) belong to other steps and are left alone here.
"""

from __future__ import annotations

from typing import Any

import msgspec

from inferia.core.errors import BadRequestError
from inferia.inference.pipeline import RequestContext

EXTENSION = "inferia"
_MAX_BASES = 8


class KnowledgeOptions(msgspec.Struct, frozen=True):
    knowledge_bases: tuple[str, ...]
    top_k: int | None


def extension_of(ctx: RequestContext) -> dict[str, Any] | None:
    """The request's ``inferia`` object, taken out of the upstream body once."""
    extension = ctx.extras.get(EXTENSION)
    if extension is None and EXTENSION in ctx.body:
        extension = ctx.body.pop(EXTENSION)
        if not isinstance(extension, dict):
            raise BadRequestError("'inferia' must be an object.", param=EXTENSION)
        ctx.extras[EXTENSION] = extension
    return extension


def knowledge_options(extension: dict[str, Any] | None, max_top_k: int) -> KnowledgeOptions | None:
    if not extension:
        return None
    names = extension.get("knowledge_bases")
    top_k = extension.get("top_k")
    if names is None and top_k is None:
        return None
    if names is not None and (
        not isinstance(names, list)
        or not 1 <= len(names) <= _MAX_BASES
        or not all(isinstance(name, str) and 0 < len(name) <= 200 for name in names)
    ):
        raise BadRequestError(
            f"'inferia.knowledge_bases' must be a list of 1 to {_MAX_BASES} names.",
            param="inferia.knowledge_bases",
        )
    if top_k is not None and (
        isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= max_top_k
    ):
        raise BadRequestError(
            f"'inferia.top_k' must be an integer from 1 to {max_top_k}.", param="inferia.top_k"
        )
    return KnowledgeOptions(tuple(names or ()), top_k)
