"""Response bodies of ``/management/usage`` and ``/management/logs``."""

from __future__ import annotations

from datetime import datetime

import msgspec


class UsageRow(msgspec.Struct, kw_only=True):
    bucket: str
    model: str | None = None
    key_id: str | None = None
    user_id: str | None = None
    requests: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


class UsageReport(msgspec.Struct, kw_only=True):
    start: datetime
    end: datetime
    bucket: str
    group_by: list[str]
    data: list[UsageRow]


class LogEntry(msgspec.Struct, kw_only=True):
    id: str
    request_id: str
    created_at: datetime
    api: str
    model: str
    deployment: str | None
    key_id: str | None
    user_id: str | None
    status: int
    error_code: str | None
    stream: bool
    prompt_tokens: int
    completion_tokens: int
    latency_ms: int
    ttft_ms: int | None
    request_body: str | None = None
    response_body: str | None = None


class LogPage(msgspec.Struct, kw_only=True):
    data: list[LogEntry]
    next_cursor: str | None
