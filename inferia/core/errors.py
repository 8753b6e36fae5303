"""One exception hierarchy for the whole platform.

Domain code raises these; one exception handler per API surface maps them to
HTTP (the OpenAI error envelope on /v1, a plain JSON body elsewhere). Engine
specific exceptions (sqlite3, asyncpg, redis) never escape their layer: they are
wrapped in ``StorageError`` / ``StateError``.
"""

from __future__ import annotations


class InferiaError(Exception):
    """Base of every error Inferia raises on purpose."""

    status_code: int = 500
    code: str = "internal_error"

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class ConfigError(InferiaError):
    """The configuration is invalid; start-up stops with this message."""

    code = "config_error"


class ValidationError(InferiaError):
    status_code = 422
    code = "invalid_request"


class BadRequestError(InferiaError):
    status_code = 400
    code = "bad_request"


class AuthenticationError(InferiaError):
    status_code = 401
    code = "unauthenticated"


class PermissionDeniedError(InferiaError):
    status_code = 403
    code = "permission_denied"


class NotFoundError(InferiaError):
    status_code = 404
    code = "not_found"


class ConflictError(InferiaError):
    status_code = 409
    code = "conflict"


class PayloadTooLargeError(InferiaError):
    status_code = 413
    code = "payload_too_large"


class RequestTimeoutError(InferiaError):
    status_code = 408
    code = "request_timeout"


class RateLimitedError(InferiaError):
    status_code = 429
    code = "rate_limited"

    def __init__(
        self,
        message: str,
        *,
        retry_after_s: float | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, param=param)
        self.retry_after_s = retry_after_s
        # Extra response headers (x-ratelimit-*), sent with the 429.
        self.headers: dict[str, str] = dict(headers or {})


class StorageError(InferiaError):
    """The relational database failed (connection, integrity, engine error)."""

    status_code = 503
    code = "storage_unavailable"


class IntegrityViolation(StorageError):
    """A unique or foreign-key constraint refused a write."""

    status_code = 409
    code = "conflict"


class StateError(InferiaError):
    """The state backend (Redis or memory) failed."""

    status_code = 503
    code = "state_unavailable"


class RemoteServiceError(InferiaError):
    """Another plane, reached over the network, failed or was unreachable."""

    status_code = 503
    code = "service_unavailable"


class UpstreamError(InferiaError):
    """An upstream model server failed; ``failure`` classifies it for retries and fallbacks.

    failure: connection, timeout, rate_limit, server_error, context_length, client_error,
    invalid_request (a 500 whose body blames the request), unavailable (no healthy
    endpoint), bad_response (garbage).
    """

    status_code = 502
    code = "upstream_error"

    def __init__(
        self,
        message: str,
        *,
        status: int = 502,
        failure: str = "server_error",
        code: str | None = None,
        retry_after_s: float | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message, param=param)
        self.status_code = status
        self.failure = failure
        self.retry_after_s = retry_after_s
        if code is not None:
            self.code = code
