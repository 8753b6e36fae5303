"""The error mapper: which exceptions are the client's fault."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from inferia.core.http_errors import handle_recursion_error


def recursion_error_of(run: Any) -> RecursionError:
    with pytest.raises(RecursionError) as raised:
        run()
    return raised.value


def test_a_body_too_deep_to_decode_is_the_clients_fault() -> None:
    exc = recursion_error_of(lambda: msgspec.json.decode(b"[" * 5000 + b"]" * 5000))
    reply = handle_recursion_error(None, exc)  # type: ignore[arg-type]
    assert reply.status_code == 400


def test_a_recursion_error_of_our_own_stays_a_server_error() -> None:
    def forever() -> None:
        forever()

    class Path:
        path = "/x"

    class Request:
        method = "GET"
        url = Path()

    reply = handle_recursion_error(Request(), recursion_error_of(forever))  # type: ignore[arg-type]
    assert reply.status_code == 500
