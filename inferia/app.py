"""The app factory: one Litestar app mounting the planes this process serves.

Which implementation of each cross-plane port is used is decided here, once: the
in-process one when the owning plane runs in this process, the remote one otherwise.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.plugins import PluginProtocol
from litestar.plugins.core import MsgspecDIPlugin
from litestar.types import ControllerRouterHandler

from inferia.config import Settings, settings_from_env
from inferia.contracts import FiltrationPorts, remote_ports
from inferia.contracts.access import CallerVerifier
from inferia.contracts.endpoints import LiveEndpointSource
from inferia.contracts.port_set import (
    remote_caller_verifier,
    remote_embedder,
    remote_live_endpoints,
)
from inferia.core.cors import Cors
from inferia.core.http_entry import DIRECT_ROUTES_STATE_KEY, AsgiHandler, HttpEntry
from inferia.core.http_errors import EXCEPTION_HANDLERS
from inferia.core.logging import configure_logging
from inferia.core.metrics import METRICS_ROUTES
from inferia.core.openapi import add_operations, openapi_asset_routes, openapi_config
from inferia.core.process import exit_with_parent
from inferia.core.request_id import RequestIdMiddleware
from inferia.health import HEALTH_ROUTES
from inferia.runtime import Runtime
from inferia.state import build_state_backend

# Planes that own relational tables; a process without them opens no database.
_DATABASE_PLANES = frozenset({"filtration", "orchestration"})


def build_runtime(settings: Settings) -> Runtime:
    database = None
    if _DATABASE_PLANES & set(settings.planes):
        # Imported only here: an inference-only process loads no piccolo.
        from inferia.db import Database
        from inferia.tables import tables_of

        database = Database(settings.database, settings.data_path, tables_of(settings.planes))
    return Runtime(
        settings=settings, state=build_state_backend(settings.state.url), database=database
    )


def build_app(settings: Settings, *, server: bool = False) -> Litestar:
    """``server``: the app is a server process' one app (not one of a test's)."""
    runtime = build_runtime(settings)
    runtime.freeze_heap_after_start = server
    planes = set(settings.planes)
    handlers: list[ControllerRouterHandler] = [
        *HEALTH_ROUTES,
        *METRICS_ROUTES,
        *openapi_asset_routes(),
    ]

    app_state = State({"runtime": runtime})
    direct_routes: dict[str, AsgiHandler] = {}
    dependencies: dict[str, Provide] = {}
    # Each plane is imported only when this process serves it (docs/architecture.md).
    in_process_ports: FiltrationPorts | None = None
    in_process_verifier: CallerVerifier | None = None
    in_process_endpoints: LiveEndpointSource | None = None
    if "filtration" in planes:
        from inferia.filtration.access import ACCESS_STATE_KEY, provide_caller
        from inferia.filtration.plane import FiltrationPlane

        filtration = FiltrationPlane(runtime)
        handlers += filtration.routes()
        in_process_ports = filtration.ports()
        # Where the `requires(...)` guards find the access-control service.
        app_state[ACCESS_STATE_KEY] = filtration.access
        dependencies["caller"] = Provide(provide_caller)
        in_process_verifier = filtration.control_callers
    if "orchestration" in planes:
        from inferia.orchestration.plane import OrchestrationPlane

        verifier = in_process_verifier or remote_caller_verifier(runtime)
        orchestration = OrchestrationPlane(runtime, verifier)
        handlers += orchestration.routes()
        in_process_endpoints = orchestration.live_endpoints
    if "inference" in planes:
        from inferia.inference.plane import InferencePlane

        # The one place the ports are chosen: in process, or over /internal/*.
        ports = in_process_ports if in_process_ports is not None else remote_ports(runtime)
        endpoints = in_process_endpoints or remote_live_endpoints(runtime)
        inference = InferencePlane(runtime, ports, endpoints)
        handlers += inference.routes()
        direct_routes.update(inference.direct_routes())
        if "filtration" in planes:
            # Knowledge-base ingestion embeds through the gateway's routing, in process.
            filtration.knowledge_embedder.bind(inference.embedder)
    elif "filtration" in planes:
        # No gateway here: knowledge-base text is embedded by the inference plane's process.
        filtration.knowledge_embedder.bind(remote_embedder(runtime))
    if "dashboard" in planes:
        from inferia.dashboard.plane import dashboard_routes

        handlers += dashboard_routes()
    app_state[DIRECT_ROUTES_STATE_KEY] = direct_routes

    app = _Litestar(
        route_handlers=handlers,
        lifespan=[runtime.lifespan],
        state=app_state,
        dependencies=dependencies,
        middleware=[DefineMiddleware(RequestIdMiddleware, ids=runtime.request_ids)],
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.server.max_body_bytes,
        openapi_config=openapi_config(),
        logging_config=None,
    )
    if "inference" in planes:
        from inferia.inference.api.openapi import v1_openapi

        paths, schemas = v1_openapi()
        add_operations(app, paths, schemas, {"ApiKey": {"type": "http", "scheme": "bearer"}})
    return app


class _Litestar(Litestar):
    """Litestar without the plugins it adds on its own for pydantic and attrs models.

    No route here takes or returns one (msgspec Structs throughout), but pydantic is
    installed (betterproto2 needs it), and Litestar imports its pydantic plugins, and
    with them pydantic and pydantic.v1, whenever it can: ~9 MB in every worker.
    """

    @staticmethod
    def _get_default_plugins(plugins: list[PluginProtocol]) -> list[PluginProtocol]:
        return [*plugins, MsgspecDIPlugin()]


def build_http_entry(settings: Settings, *, server: bool = False) -> HttpEntry:
    """What the server runs: the hot paths that bypass Litestar, then the Litestar app."""
    app = build_app(settings, server=server)
    runtime: Runtime = app.state.runtime
    return HttpEntry(
        app,
        app.state[DIRECT_ROUTES_STATE_KEY],
        runtime.client_addresses,
        Cors.from_settings(settings.server.cors_origins),
    )


def serve_target() -> HttpEntry:
    """Entry point of each granian worker: the CLI hands the effective settings down."""
    exit_with_parent()
    settings = settings_from_env()
    configure_logging(settings.logging)
    return build_http_entry(settings, server=True)
