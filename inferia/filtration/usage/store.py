"""Reading usage back: aggregates by time bucket / model / key / user, and log pages."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from inferia.contracts.usage import body_context
from inferia.core.crypto import DecryptionError, SecretBox
from inferia.core.errors import ValidationError
from inferia.db.errors import wrap_errors
from inferia.filtration.usage.schemas import LogEntry, LogPage, UsageReport, UsageRow
from inferia.filtration.usage.tables import InferenceLog, UsageRecord

_BUCKETS = ("minute", "hour", "day")
GROUP_COLUMNS = {"model": "model", "key": "key_id", "user": "user_id"}
# Rows one aggregate may scan; narrow the time range for more.
MAX_SCAN_ROWS = 200_000
MAX_LOG_PAGE = 200


async def usage_report(
    organization_id: str, start: datetime, end: datetime, bucket: str, group_by: Sequence[str]
) -> UsageReport:
    if bucket not in (*_BUCKETS, "month"):
        raise ValidationError("bucket must be minute, hour, day or month", param="bucket")
    if end <= start:
        raise ValidationError("'end' must be after 'start'", param="end")
    async with wrap_errors():
        rows = (
            await UsageRecord.select(
                UsageRecord.created_at,
                UsageRecord.model,
                UsageRecord.key_id,
                UsageRecord.user_id,
                UsageRecord.status,
                UsageRecord.prompt_tokens,
                UsageRecord.completion_tokens,
                UsageRecord.cost_micros,
            )
            .where(
                (UsageRecord.organization_id == organization_id)
                & (UsageRecord.created_at >= start)
                & (UsageRecord.created_at < end)
            )
            .limit(MAX_SCAN_ROWS + 1)
        )
    if len(rows) > MAX_SCAN_ROWS:
        raise ValidationError(
            f"more than {MAX_SCAN_ROWS} records in range; narrow 'start'..'end'", param="start"
        )
    groups: dict[tuple[Any, ...], UsageRow] = {}
    for row in rows:
        label = _bucket_label(row["created_at"], bucket)
        dims = tuple(row[GROUP_COLUMNS[g]] for g in group_by)
        entry = groups.get((label, *dims))
        if entry is None:
            entry = groups[(label, *dims)] = UsageRow(bucket=label)
            for name, value in zip(group_by, dims, strict=True):
                setattr(entry, GROUP_COLUMNS[name], value)
        entry.requests += 1
        entry.errors += 1 if row["status"] >= 400 else 0
        entry.prompt_tokens += row["prompt_tokens"]
        entry.completion_tokens += row["completion_tokens"]
        entry.cost_usd += row["cost_micros"] / 1_000_000
    data = sorted(groups.values(), key=lambda r: (r.bucket, r.model or "", r.key_id or ""))
    for entry in data:
        entry.cost_usd = round(entry.cost_usd, 6)
    return UsageReport(start=start, end=end, bucket=bucket, group_by=list(group_by), data=data)


def _bucket_label(created_at: datetime, bucket: str) -> str:
    """The bucket's start as an ISO 8601 UTC timestamp ("2026-12-07T23:00:00Z")."""
    aware = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
    start = aware.astimezone(UTC).replace(second=0, microsecond=0)
    if bucket != "minute":
        start = start.replace(minute=0)
    if bucket in ("day", "month"):
        start = start.replace(hour=0)
    if bucket == "month":
        start = start.replace(day=1)
    return start.strftime("%Y-%m-%dT%H:%M:%SZ")


async def log_page(
    organization_id: str,
    *,
    limit: int,
    cursor: str | None,
    model: str | None,
    key_id: str | None,
    include_bodies: bool,
    box: SecretBox | None,
) -> LogPage:
    """Newest first; ``cursor`` continues after the last entry of the previous page."""
    if not 1 <= limit <= MAX_LOG_PAGE:
        raise ValidationError(f"limit must be between 1 and {MAX_LOG_PAGE}", param="limit")
    query = InferenceLog.select().where(InferenceLog.organization_id == organization_id)
    if model:
        query = query.where(InferenceLog.model == model)
    if key_id:
        query = query.where(InferenceLog.key_id == key_id)
    if cursor:
        at, last_id = _decode_cursor(cursor)
        query = query.where(
            (InferenceLog.created_at < at)
            | ((InferenceLog.created_at == at) & (InferenceLog.id < last_id))
        )
    async with wrap_errors():
        rows = await query.order_by(
            InferenceLog.created_at, InferenceLog.id, ascending=False
        ).limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    entries = [_entry(row, include_bodies, box) for row in rows]
    next_cursor = _encode_cursor(rows[-1]["created_at"], str(rows[-1]["id"])) if more else None
    return LogPage(data=entries, next_cursor=next_cursor)


def _entry(row: dict[str, Any], include_bodies: bool, box: SecretBox | None) -> LogEntry:
    entry = LogEntry(
        id=str(row["id"]),
        request_id=row["request_id"],
        created_at=_aware(row["created_at"]),
        api=row["api"],
        model=row["model"],
        deployment=row["deployment"],
        key_id=row["key_id"],
        user_id=row["user_id"],
        status=row["status"],
        error_code=row["error_code"],
        stream=row["stream"],
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
        latency_ms=row["latency_ms"],
        ttft_ms=row["ttft_ms"],
    )
    if include_bodies and box is not None:
        context = body_context(entry.id)
        entry.request_body = _open(box, row["request_body"], context)
        entry.response_body = _open(box, row["response_body"], context)
    return entry


def _open(box: SecretBox, sealed: str | None, context: str) -> str | None:
    if sealed is None:
        return None
    try:
        return box.decrypt(sealed, context)
    except DecryptionError:
        return "[sealed with a key this server does not have]"


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _encode_cursor(at: datetime, last_id: str) -> str:
    raw = f"{_aware(at).isoformat()}|{last_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, last_id = raw.split("|", 1)
        return datetime.fromisoformat(at), last_id
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("invalid cursor", param="cursor") from None
