"""Usage reporting: aggregates over a time range, and pages of the inference log.

Read-only (the usage consumer writes): the parameters of a request are checked here,
the queries are the store's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from inferia.core.crypto import SecretBox
from inferia.core.errors import ValidationError
from inferia.filtration.usage.schemas import LogPage, UsageReport
from inferia.filtration.usage.store import GROUP_COLUMNS, log_page, usage_report


class UsageService:
    def __init__(self, box: SecretBox | None) -> None:
        # Opens the request/response bodies kept in the log (None: no encryption key).
        self._box = box

    async def report(
        self,
        organization_id: str,
        *,
        start: str | None,
        end: str | None,
        bucket: str,
        group_by: str | None,
    ) -> UsageReport:
        default_start, default_end = _default_range()
        return await usage_report(
            organization_id,
            _parse_time(start, "start", default_start),
            _parse_time(end, "end", default_end),
            bucket,
            _parse_group_by(group_by),
        )

    async def logs(
        self,
        organization_id: str,
        *,
        limit: int,
        cursor: str | None,
        model: str | None,
        key_id: str | None,
        include_bodies: bool,
    ) -> LogPage:
        return await log_page(
            organization_id,
            limit=limit,
            cursor=cursor,
            model=model,
            key_id=key_id,
            include_bodies=include_bodies,
            box=self._box,
        )


def _parse_time(value: str | None, name: str, default: datetime) -> datetime:
    if not value:
        return default
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"'{name}' must be an ISO 8601 time", param=name) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _parse_group_by(value: str | None) -> list[str]:
    if not value:
        return []
    names = [v.strip() for v in value.split(",") if v.strip()]
    for name in names:
        if name not in GROUP_COLUMNS:
            raise ValidationError(
                f"unknown group_by '{name}'; use model, key or user", param="group_by"
            )
    return list(dict.fromkeys(names))


def _default_range() -> tuple[datetime, datetime]:
    end = datetime.now(UTC) + timedelta(seconds=1)
    return end - timedelta(days=1), end
