"""``GET /health`` (the process is alive) and ``GET /ready`` (its backends answer).

Every plane serves both; readiness checks only the backends this process uses (an
inference-only process has no database) and the planes it calls in other processes (an
inference-only process is not ready while its filtration plane does not answer: every
/v1 request would get 503).
"""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Response, get
from litestar.datastructures import State

from inferia.runtime import Runtime


@get("/health", sync_to_thread=False, include_in_schema=False)
def health(state: State) -> dict[str, Any]:
    runtime: Runtime = state.runtime
    return {"status": "ok", "planes": list(runtime.settings.planes)}


@get("/ready", include_in_schema=False)
async def ready(state: State) -> Response[dict[str, Any]]:
    runtime: Runtime = state.runtime
    checks: dict[str, Any] = {"state": runtime.state.ping()}
    if runtime.database is not None:
        checks["database"] = runtime.database.ping()
    for name, check in runtime.ready_checks.items():
        checks[name] = check()
    results = await asyncio.gather(*checks.values())
    status = dict(zip(checks, ("ok" if ok else "unavailable" for ok in results), strict=True))
    healthy = all(results)
    return Response(
        {"status": "ready" if healthy else "not ready", "checks": status},
        status_code=200 if healthy else 503,
    )


HEALTH_ROUTES = [health, ready]
