"""Validation of the known fields of /v1 request bodies.

The body is decoded once to a dict (what goes upstream, unknown fields included) and
then converted to one of these Structs, which only checks types and ranges of the
fields we know; unknown fields are ignored here and forwarded unchanged.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, TypeVar

import msgspec

from inferia.core.errors import BadRequestError
from inferia.inference.pipeline import Api

NonNegative = Annotated[float, msgspec.Meta(ge=0)]
Positive = Annotated[int, msgspec.Meta(ge=1)]
Temperature = Annotated[float, msgspec.Meta(ge=0, le=2)]
Penalty = Annotated[float, msgspec.Meta(ge=-2, le=2)]
Probability = Annotated[float, msgspec.Meta(ge=0, le=1)]
ModelName = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
Stop = str | list[str] | None


class _Body(msgspec.Struct, forbid_unknown_fields=False, kw_only=True):
    """Nullable where OpenAI's schema makes a field nullable (all of these; ``user`` is
    not, but clients send null for "none" and it means just that)."""

    model: ModelName
    stream: bool | None = False
    stream_options: dict[str, Any] | None = None
    temperature: Temperature | None = None
    top_p: Probability | None = None
    n: Annotated[int, msgspec.Meta(ge=1, le=128)] | None = None
    max_tokens: Positive | None = None
    presence_penalty: Penalty | None = None
    frequency_penalty: Penalty | None = None
    seed: int | None = None
    user: str | None = None
    stop: Stop = None
    logit_bias: dict[str, float] | None = None


class Message(msgspec.Struct, forbid_unknown_fields=False, kw_only=True):
    role: Annotated[str, msgspec.Meta(min_length=1)]
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None


class Tool(msgspec.Struct, forbid_unknown_fields=False, kw_only=True):
    type: str
    function: dict[str, Any] | None = None


class ChatCompletionRequest(_Body, kw_only=True):
    messages: Annotated[list[Message], msgspec.Meta(min_length=1)]
    max_completion_tokens: Positive | None = None
    tools: list[Tool] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    response_format: dict[str, Any] | None = None
    logprobs: bool | None = None
    top_logprobs: Annotated[int, msgspec.Meta(ge=0, le=20)] | None = None


class CompletionRequest(_Body, kw_only=True):
    # A string, a list of strings, or token ids (lists of ints or of lists of ints).
    prompt: str | list[str | int | list[int]]
    logprobs: Annotated[int, msgspec.Meta(ge=0, le=5)] | None = None
    echo: bool | None = None
    suffix: str | None = None
    best_of: Annotated[int, msgspec.Meta(ge=1, le=128)] | None = None


class EmbeddingRequest(msgspec.Struct, forbid_unknown_fields=False, kw_only=True):
    model: ModelName
    input: str | list[str | int | list[int]]
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: Positive | None = None
    user: str | None = None


RequestBody = ChatCompletionRequest | CompletionRequest | EmbeddingRequest
SCHEMAS: dict[Api, type[RequestBody]] = {
    "chat.completions": ChatCompletionRequest,
    "completions": CompletionRequest,
    "embeddings": EmbeddingRequest,
}
_decode = msgspec.json.Decoder().decode
_MISSING = re.compile(r"Object missing required field `(\w+)`")
_UNKNOWN = re.compile(r"Object contains unknown field `(\w+)`")
_AT = re.compile(r" - at `\$\.?(.*)`$")


def parse(raw: bytes, api: Api, max_tokens_limit: int) -> tuple[dict[str, Any], RequestBody]:
    """The body decoded once (what goes upstream) and its known fields validated."""
    try:
        payload = _decode(raw)
        parsed = validate(payload, SCHEMAS[api], max_tokens_limit)
    except msgspec.DecodeError as exc:
        raise BadRequestError(f"The request body is not valid JSON: {exc}.") from None
    except UnicodeDecodeError:
        raise BadRequestError("The request body is not valid UTF-8.") from None
    except RecursionError:
        # msgspec decodes and converts recursively: a body nested ~1000 deep ends here.
        raise BadRequestError("The request body is nested too deeply.") from None
    if isinstance(payload, dict) and "stream" in payload and payload["stream"] is None:
        # "stream": null means the default (OpenAI's schema); not every upstream agrees.
        del payload["stream"]
    return payload, parsed


def validate(payload: Any, schema: type[RequestBody], max_tokens_limit: int) -> RequestBody:
    """Check ``payload`` against ``schema``; a 400 naming the offending ``param`` if not."""
    if not isinstance(payload, dict):
        raise BadRequestError("The request body must be a JSON object.")
    parsed = validate_struct(payload, schema)
    for name in ("max_tokens", "max_completion_tokens"):
        value = getattr(parsed, name, None)
        if value is not None and value > max_tokens_limit:
            raise BadRequestError(f"'{name}' must be at most {max_tokens_limit}.", param=name)
    if isinstance(parsed, EmbeddingRequest) and _empty_input(parsed.input):
        raise BadRequestError("'input' must not be empty.", param="input")
    return parsed


S = TypeVar("S", bound=msgspec.Struct)


def validate_struct(value: Any, schema: type[S], field: str | None = None) -> S:
    """``value`` converted to ``schema``; a 400 naming the offending ``param`` (under
    ``field`` when it is a part of the body) if it does not fit."""
    if field is not None and not isinstance(value, dict):
        raise BadRequestError(f"'{field}' must be an object.", param=field)
    try:
        return msgspec.convert(value, schema)
    except msgspec.ValidationError as exc:
        message = str(exc)
        where = _AT.search(message)
        param = where.group(1) if where else None
        missing = _MISSING.match(message) or _UNKNOWN.match(message)
        if missing:
            param = f"{param}.{missing.group(1)}" if param else missing.group(1)
        if field is not None:
            param = f"{field}.{param}" if param else field
        reason = _AT.sub("", message)
        raise BadRequestError(
            f"Invalid value for '{param}': {reason}" if param else reason,
            param=param,
        ) from None


def _empty_input(value: object) -> bool:
    return value == "" or value == []
