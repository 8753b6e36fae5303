"""``GET /management/usage`` (aggregates) and ``GET /management/logs`` (inference log pages)."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from inferia.filtration.access import Caller, requires
from inferia.filtration.usage.schemas import LogPage, UsageReport
from inferia.filtration.usage.service import UsageService


def usage_controller(usage: UsageService) -> type[Controller]:
    class UsageController(Controller):
        path = "/management"
        tags = ["usage"]

        @get("/usage", guards=[requires("usage:read")])
        async def usage(
            self,
            caller: NamedDependency[Caller],
            start: FromQuery[str | None] = None,
            end: FromQuery[str | None] = None,
            bucket: FromQuery[str] = "hour",
            group_by: FromQuery[str | None] = None,
        ) -> UsageReport:
            return await usage.report(
                caller.organization_id, start=start, end=end, bucket=bucket, group_by=group_by
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
            return await usage.logs(
                caller.organization_id,
                limit=limit,
                cursor=cursor,
                model=model,
                key_id=key_id,
                include_bodies=include_bodies,
            )

    return UsageController
