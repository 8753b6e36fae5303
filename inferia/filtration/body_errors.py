"""Invalid typed bodies of the definition routes as 422s that name the field.

Litestar validates a msgspec body before the handler runs and answers 400 naming the
body ("data"). The policy and guardrail routes answer 422 with the offending field in
``param``, as their services do for the checks msgspec cannot make: a controller opts
in with ``exception_handlers = BODY_ERRORS_AS_422``.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import ValidationException

from inferia.core.errors import ValidationError
from inferia.core.http_errors import handle_http_exception, handle_inferia_error

# "Object contains unknown field `colour`", "Object missing required field `scope`".
_FIELD_RE = re.compile(r"field `([^`]+)`")


def body_error_as_422(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[bytes]:
    first = exc.extra[0] if isinstance(exc.extra, list) and exc.extra else None
    if not isinstance(first, dict) or first.get("source") != "body":
        return handle_http_exception(request, exc)  # a path or query parameter: 400
    message = str(first.get("message", "invalid body"))
    param: str | None = first.get("key")
    if param == "data":  # the body as a whole: name the field when msgspec did
        named = _FIELD_RE.search(message)
        param = named.group(1) if named else None
    where = f" (at '{param}')" if param else ""
    return handle_inferia_error(
        request, ValidationError(f"invalid body: {message}{where}", param=param)
    )


BODY_ERRORS_AS_422: dict[type[Exception] | int, Any] = {ValidationException: body_error_as_422}
