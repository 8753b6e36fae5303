"""Structured logging: plain text for people, JSON lines for machines.

The request id of the request being served (see ``inferia.core.request_id``) is added
to every record, so one request's log lines can be found together.

Every record is one line, whatever clients send: the plain format escapes control
characters (``\n`` becomes the two characters ``\\n``), so an e-mail or a path
cannot forge a line of its own; a traceback follows its record on lines indented by
four spaces. JSON lines escape them by construction. Granian's loggers (its access
log) write through the same handler.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from contextvars import ContextVar
from typing import Any

import msgspec

from inferia.config import LoggingSettings

current_request_id: ContextVar[str | None] = ContextVar("inferia_request_id", default=None)

_STANDARD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Granian's own loggers: its messages and, with logging.access_log, the access log.
_SERVER_LOGGERS = ("_granian", "granian.access")


def escape_controls(text: str) -> str:
    """``text`` with control characters written as escapes: it stays on one line."""
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode(), text)


def _indented(text: str) -> str:
    return "\n".join("    " + escape_controls(line) for line in text.split("\n"))


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; ``extra={...}`` fields are included as keys."""

    _encoder = msgspec.json.Encoder()

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and value is not None:
                entry[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return self._encoder.encode(entry).decode()


class PlainFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s%(rid)s")

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        record.rid = f" [request_id={request_id}]" if request_id else ""
        return super().format(record)

    def formatMessage(self, record: logging.LogRecord) -> str:
        return escape_controls(super().formatMessage(record))

    def formatException(self, ei: Any) -> str:
        return _indented(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return _indented(super().formatStack(stack_info))


def configure_logging(settings: LoggingSettings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.format == "json" else PlainFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.level)
    # In a worker, granian configured these before the app was built: same handler.
    for name in _SERVER_LOGGERS:
        logging.getLogger(name).handlers[:] = [handler]
    # Third-party chatter stays at WARNING unless we debug. piccolo's engine logs
    # "Running Sqlite version 3.4" in every process, on PostgreSQL too (its check runs
    # on the configuration's default engine), which misleads more than it tells.
    for noisy in ("aiosqlite", "asyncio", "piccolo.engine"):
        logging.getLogger(noisy).setLevel(
            logging.DEBUG if settings.level == "DEBUG" else logging.WARNING
        )


def granian_log_config(settings: LoggingSettings) -> dict[str, Any]:
    """granian's own logging (its supervisor's lines, the access log) in our format on
    stderr: with ``format = "json"`` they were plain text on stdout, among JSON lines."""
    formatter = "inferia.core.logging." + (
        "JsonFormatter" if settings.format == "json" else "PlainFormatter"
    )
    handler = {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "formatter": "inferia",
        "filters": ["request_id"],
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"inferia": {"()": formatter}},
        "filters": {"request_id": {"()": "inferia.core.logging.RequestIdFilter"}},
        "handlers": {"inferia": handler},
        "loggers": {
            name: {"handlers": ["inferia"], "level": "INFO", "propagate": False}
            for name in _SERVER_LOGGERS
        },
    }
