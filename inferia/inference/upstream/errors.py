"""Upstream failures -> ``UpstreamError`` with the status the client should see.

A failure's class decides what happens next: retryable ones (connection, timeout,
429, 5xx, garbage) go to another endpoint while nothing has reached the client;
classes named in ``inference.fallback_on`` go on to the next fallback model.
"""

from __future__ import annotations

from typing import Any

import msgspec

from inferia.core.errors import UpstreamError

RETRYABLE = frozenset({"connection", "timeout", "rate_limit", "server_error", "unavailable"})
# Failures that say an endpoint is unhealthy (feed its circuit breaker); 429 and client
# errors do not: the endpoint works, it is busy or the request is wrong. A 500 whose body
# blames the request ("invalid_request") counts once: it is not retried, so one client's
# bad request cannot open the circuit by itself.
UNHEALTHY = frozenset({"connection", "timeout", "server_error", "invalid_request"})
# How servers word "the prompt does not fit": OpenAI and vLLM ("maximum context length",
# "context length"), llama.cpp ("exceeds the available context size",
# exceed_context_size_error), Anthropic through a proxy ("prompt is too long"), LiteLLM
# (ContextWindowExceededError).
_CONTEXT_HINTS = (
    "context length",
    "context_length",
    "maximum context",
    "too many tokens",
    "context size",
    "exceed_context_size",
    "context window",
    "contextwindowexceeded",
    "prompt is too long",
    "is too long and exceeds",
    "reduce the length of the messages",
)
# A 500 whose body says the request is at fault (llama.cpp answers an unsupported
# json_schema or tool_choice "required" so): another attempt would fail the same way.
_INVALID_REQUEST_HINTS = (
    "invalid",
    "unsupported",
    "not supported",
    "bad request",
    "validation error",
    "failed to parse",
    "could not parse",
    "conversion failed",
)


class _ErrorBody(msgspec.Struct):
    error: Any = None
    message: Any = None


def _message_of(body: bytes) -> tuple[str, str | None]:
    try:
        parsed = msgspec.json.decode(body[:65536], type=_ErrorBody)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return body[:200].decode("utf-8", "replace"), None
    error = parsed.error
    if isinstance(error, dict):
        code = error.get("code")
        # llama.cpp puts its class in "type" (exceed_context_size_error) and a number in "code".
        if isinstance(error.get("type"), str) and not isinstance(code, str):
            code = error["type"]
        return str(error.get("message") or ""), str(code) if code is not None else None
    if isinstance(error, str):
        return error, None
    return str(parsed.message or ""), None


def from_status(status: int, body: bytes, retry_after: str | None) -> UpstreamError:
    message, code = _message_of(body)
    lowered = f"{message} {code or ''}".lower()
    if status == 429:
        return UpstreamError(
            f"The upstream model server is rate limiting: {message}".rstrip(": "),
            status=429,
            failure="rate_limit",
            code="upstream_rate_limited",
            retry_after_s=_seconds(retry_after),
        )
    if status in (400, 413, 422, 500) and any(hint in lowered for hint in _CONTEXT_HINTS):
        return UpstreamError(
            message or "The prompt exceeds the model's context length.",
            status=400,
            failure="context_length",
            code="context_length_exceeded",
        )
    if status == 500 and any(hint in lowered for hint in _INVALID_REQUEST_HINTS):
        return UpstreamError(
            f"The upstream model server could not handle this request: {message}",
            status=400,
            failure="invalid_request",
            code="upstream_rejected_request",
        )
    if status in (400, 413, 422):
        return UpstreamError(
            message or "The upstream model server rejected the request.",
            status=status,
            failure="client_error",
            # Some servers put the HTTP status there ("400"): no code a client can match on.
            code=code if code and not code.isdigit() else "invalid_request",
        )
    if 300 <= status < 400:
        # Never followed (the target could be anywhere, see inferia.core.ssrf): the
        # endpoint is misconfigured or hostile, and another endpoint may still answer.
        return UpstreamError(
            f"The upstream model server answered with a redirect (HTTP {status}), "
            "which the gateway does not follow.",
            status=502,
            failure="server_error",
            code="upstream_redirect",
        )
    if status in (401, 403, 404):
        # The gateway's upstream credentials or model name are wrong: not the client's fault.
        return UpstreamError(
            f"The upstream model server refused the gateway's request (HTTP {status}).",
            status=502,
            failure="server_error",
            code="upstream_misconfigured",
        )
    if status in (503, 504):
        return UpstreamError(
            f"The upstream model server is unavailable (HTTP {status}).",
            status=status,
            failure="server_error",
            code="upstream_unavailable" if status == 503 else "upstream_timeout",
        )
    return UpstreamError(
        f"The upstream model server failed (HTTP {status}).",
        status=502,
        failure="server_error" if status >= 500 else "client_error",
        code="upstream_error",
    )


def connection_error(exc: BaseException) -> UpstreamError:
    return UpstreamError(
        f"Could not reach the upstream model server ({type(exc).__name__}).",
        status=502,
        failure="connection",
        code="upstream_unreachable",
    )


def timeout_error() -> UpstreamError:
    return UpstreamError(
        "The upstream model server did not answer in time.",
        status=504,
        failure="timeout",
        code="upstream_timeout",
    )


def bad_response(detail: str) -> UpstreamError:
    return UpstreamError(
        f"The upstream model server sent an invalid response: {detail}.",
        status=502,
        failure="server_error",
        code="upstream_bad_response",
    )


def no_endpoint(model: str) -> UpstreamError:
    return UpstreamError(
        f"No healthy upstream endpoint for model '{model}'.",
        status=503,
        failure="unavailable",
        code="no_healthy_upstream",
    )


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
