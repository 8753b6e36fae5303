"""``GET /management/usage`` (aggregates) and ``GET /management/logs`` (inference log pages)."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from inferia.core.crypto import SecretBox
from inferia.filtration.access import Caller, requires
from inferia.filtration.usage.queries import (
    LogPage,
    UsageReport,
    default_range,
    log_page,
    parse_group_by,
    parse_time,
    usage_report,
)


def usage_controller(box: SecretBox | None) -> type[Controller]:
    class UsageController(Controller):
        path = "/management"
        tags = ["usage"]

        @get("/usage", guards=[requires("policies:read")])
        async def usage(
            self,
            caller: NamedDependency[Caller],
            start: FromQuery[str | None] = None,
            end: FromQuery[str | None] = None,
            bucket: FromQuery[str] = "hour",
            group_by: FromQuery[str | None] = None,
        ) -> UsageReport:
            default_start, default_end = default_range()
            return await usage_report(
                caller.organization_id,
                parse_time(start, "start", default_start),
                parse_time(end, "end", default_end),
                bucket,
                parse_group_by(group_by),
            )

        @get("/logs", guards=[requires("audit:read")])
        async def logs(
            self,
            caller: NamedDependency[Caller],
            limit: FromQuery[int] = 50,
            cursor: FromQuery[str | None] = None,
            model: FromQuery[str | None] = None,
            key_id: FromQuery[str | None] = None,
            include_bodies: FromQuery[bool] = False,
        ) -> LogPage:
            return await log_page(
                caller.organization_id,
                limit=limit,
                cursor=cursor,
                model=model,
                key_id=key_id,
                include_bodies=include_bodies,
                box=box,
            )

    return UsageController
