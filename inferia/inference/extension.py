"""The ``inferia`` extension field of /v1 request bodies (the openai SDK's
``extra_body={"inferia": {...}}``).

It is taken out of the body before anything else reads it, so it never reaches the
upstream, and decoded into ``InferiaExtension``; the shape-prompt step keeps the field
as sent in ``ctx.extras["inferia"]`` for later steps. One Struct for every key: a feature
that adds a key adds a field here (unknown keys are refused, so a typo is a 400).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from inferia.inference.api.schemas import validate_struct

FIELD = "inferia"


class InferiaExtension(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    # Prompt templates (inferia.inference.shaping).
    template: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    version: Annotated[int, msgspec.Meta(ge=1)] | None = None
    variables: dict[str, Any] = msgspec.field(default_factory=dict)
    # Knowledge-base retrieval (issue 14, part 4): typed here, ranges checked by its step,
    # which reads them from ``ctx.extras["inferia"]`` (the field as the client sent it).
    knowledge_bases: list[str] | None = None
    top_k: int | None = None


def take_extension(body: dict[str, Any]) -> InferiaExtension | None:
    """Remove the field from ``body``; its decoded value (None when absent or null), or
    a 400 whose ``param`` names the offending key (``inferia.variables``...)."""
    raw = body.pop(FIELD, None)
    if raw is None:
        return None
    return validate_struct(raw, InferiaExtension, FIELD)
