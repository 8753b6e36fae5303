"""One mapper from exceptions to HTTP error responses, registered once on the app.

Every error body has the OpenAI envelope shape, ``{"error": {"message", "type",
"param", "code"}}``, so /v1 clients (the OpenAI SDKs) parse it, and management clients
get the same predictable shape. Unexpected exceptions become a 500 with no detail:
the stack trace goes to the log under the request id, never to the client.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException
from litestar.exceptions import ValidationException as LitestarValidationError
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from inferia.core.errors import InferiaError, RateLimitedError, UpstreamError

log = logging.getLogger(__name__)
_encode = msgspec.json.Encoder().encode

# OpenAI's error "type" per status, so SDKs map each to their own exception class.
_TYPE_BY_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    408: "invalid_request_error",
    409: "conflict_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


def error_body(
    status: int, message: str, *, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    kind = _TYPE_BY_STATUS.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def error_json(
    status: int, message: str, *, code: str | None = None, param: str | None = None
) -> bytes:
    return _encode(error_body(status, message, code=code, param=param))


def error_reply(exc: InferiaError) -> tuple[int, dict[str, str], bytes]:
    """``exc`` as a response: status, headers besides the content type (``retry-after``
    when the error says when to retry, a refusal's ``x-ratelimit-*``) and the JSON body.
    The one error writer of every route: Litestar's (``handle_inferia_error``) and the
    /v1 endpoints served beside it (``inferia.inference.api.exchange``)."""
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimitedError):
        headers.update(exc.headers)  # x-ratelimit-* (admission)
    # A refusal (429) or an upstream's 429 may say when to retry.
    if isinstance(exc, RateLimitedError | UpstreamError) and exc.retry_after_s is not None:
        headers["retry-after"] = str(max(1, math.ceil(exc.retry_after_s)))
    body = error_json(exc.status_code, exc.message, code=exc.code, param=exc.param)
    return exc.status_code, headers, body


def error_response(
    status: int,
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response[bytes]:
    return Response(
        error_json(status, message, code=code, param=param),
        status_code=status,
        headers=headers,
        media_type=MediaType.JSON,
    )


def handle_inferia_error(_: Request[Any, Any, Any], exc: InferiaError) -> Response[bytes]:
    if exc.status_code >= 500:
        log.warning("request failed: %s: %s", type(exc).__name__, exc.message)
    status, headers, body = error_reply(exc)
    return Response(body, status_code=status, headers=headers, media_type=MediaType.JSON)


def handle_http_exception(_: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    param = None
    message = exc.detail
    if isinstance(exc, LitestarValidationError) and isinstance(exc.extra, list) and exc.extra:
        first = exc.extra[0]
        if isinstance(first, dict):
            param = first.get("key")
            message = f"{exc.detail}: {first.get('message', '')}".rstrip(": ")
    return error_response(
        exc.status_code, message, code=_code_for(exc.status_code), param=param, headers=exc.headers
    )


def handle_recursion_error(request: Request[Any, Any, Any], exc: RecursionError) -> Response[bytes]:
    """msgspec refuses a body nested deeper than it can decode with a RecursionError:
    the client's fault (400). Any other RecursionError is ours (500)."""
    if "deserializing" in str(exc):
        return error_response(
            400, "the JSON body is nested too deeply", code=_code_for(400), param="body"
        )
    return handle_unexpected(request, exc)


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(
        HTTP_500_INTERNAL_SERVER_ERROR, "Internal server error.", code="internal_error"
    )


def _code_for(status: int) -> str:
    return {
        400: "bad_request",
        401: "unauthenticated",
        403: "permission_denied",
        404: "not_found",
        405: "method_not_allowed",
        408: "request_timeout",
        409: "conflict",
        413: "payload_too_large",
        422: "invalid_request",
        429: "rate_limited",
    }.get(status, "error")


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    InferiaError: handle_inferia_error,
    HTTPException: handle_http_exception,
    RecursionError: handle_recursion_error,
    Exception: handle_unexpected,
}
