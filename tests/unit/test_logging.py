from __future__ import annotations

import json
import logging

from inferia.core.logging import JsonFormatter, PlainFormatter, RequestIdFilter, current_request_id


def record(message: str, **extra: object) -> logging.LogRecord:
    rec = logging.makeLogRecord(
        {"name": "inferia.test", "levelname": "INFO", "msg": message, **extra}
    )
    RequestIdFilter().filter(rec)
    return rec


def test_json_lines_carry_the_request_id_and_extra_fields() -> None:
    token = current_request_id.set("req-7")
    try:
        line = JsonFormatter().format(record("hello %s", args=("world",), model="m1"))
    finally:
        current_request_id.reset(token)
    entry = json.loads(line)
    assert entry["message"] == "hello world"
    assert entry["request_id"] == "req-7"
    assert entry["model"] == "m1"
    assert entry["level"] == "INFO" and entry["time"].endswith("Z")


def test_plain_lines_name_the_request_only_when_there_is_one() -> None:
    assert "request_id" not in PlainFormatter().format(record("outside a request"))
    token = current_request_id.set("abc")
    try:
        assert "[request_id=abc]" in PlainFormatter().format(record("inside"))
    finally:
        current_request_id.reset(token)
