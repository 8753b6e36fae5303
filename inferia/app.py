"""The app factory: one Litestar app mounting the planes this process serves.

Which implementation of each cross-plane port is used is decided here, once: the
in-process one when the owning plane runs in this process, the remote one otherwise.
"""

from __future__ import annotations

import os

import msgspec
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.types import ControllerRouterHandler

from inferia import __version__
from inferia.config import Settings
from inferia.core.http_errors import EXCEPTION_HANDLERS
from inferia.core.logging import configure_logging
from inferia.core.request_id import RequestIdMiddleware
from inferia.dashboard.plane import dashboard_routes
from inferia.db import Database
from inferia.filtration import (
    ACCESS_STATE_KEY,
    CachedPrincipalResolver,
    FiltrationPlane,
    GuardrailPolicySource,
    ModelDefinitionSource,
    PolicySource,
    PrincipalResolver,
    RemoteModelSource,
    RemotePrincipalResolver,
    principal_cache_for,
    provide_caller,
)
from inferia.health import HEALTH_ROUTES
from inferia.inference import InferencePlane
from inferia.orchestration import OrchestrationPlane
from inferia.runtime import Runtime
from inferia.state import build_state_backend

# Planes that own relational tables; a process without them opens no database.
_DATABASE_PLANES = frozenset({"filtration", "orchestration"})
SETTINGS_ENV = "INFERIA_SETTINGS_JSON"


def build_runtime(settings: Settings) -> Runtime:
    needs_database = bool(_DATABASE_PLANES & set(settings.planes))
    return Runtime(
        settings=settings,
        state=build_state_backend(settings.state.url),
        database=Database(settings.database, settings.data_path) if needs_database else None,
    )


def build_app(settings: Settings) -> Litestar:
    runtime = build_runtime(settings)
    planes = set(settings.planes)
    handlers: list[ControllerRouterHandler] = [*HEALTH_ROUTES]

    principals: PrincipalResolver | None = None
    # The model-definition port: the store in process, else /internal/models.
    models: ModelDefinitionSource | None = None
    # The policy-snapshot port: the store in process, else /internal/policies (None).
    policies: PolicySource | None = None
    guardrails: GuardrailPolicySource | None = None
    app_state = State({"runtime": runtime})
    if "filtration" in planes:
        filtration = FiltrationPlane(runtime)
        handlers += filtration.routes()
        principals = filtration.principals
        policies = filtration.policies
        guardrails = filtration.guardrails  # the guardrail-policy port, in process
        models = filtration.models
        # Where the `requires(...)` guards find the access-control service.
        app_state[ACCESS_STATE_KEY] = filtration.access
    if "inference" in planes:
        if principals is None:
            principals = _remote_principals(runtime)
        if models is None:
            models = RemoteModelSource(
                lambda: runtime.http,
                settings.remote.filtration_url,
                settings.security.internal_token,
                settings.remote.timeout_s,
            )
        handlers += InferencePlane(
            runtime, principals, models=models, policies=policies, guardrails=guardrails
        ).routes()
    if "orchestration" in planes:
        handlers += OrchestrationPlane(runtime).routes()
    if "dashboard" in planes:
        handlers += dashboard_routes()

    return Litestar(
        route_handlers=handlers,
        lifespan=[runtime.lifespan],
        state=app_state,
        dependencies={"caller": Provide(provide_caller)},
        middleware=[RequestIdMiddleware],
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.server.max_body_bytes,
        openapi_config=OpenAPIConfig(title="Inferia", version=__version__, path="/docs"),
        logging_config=None,
    )


def _remote_principals(runtime: Runtime) -> PrincipalResolver:
    settings = runtime.settings
    remote = RemotePrincipalResolver(
        lambda: runtime.http,
        settings.remote.filtration_url,
        settings.security.internal_token,
        settings.remote.timeout_s,
    )
    cached = CachedPrincipalResolver(remote, runtime.state, principal_cache_for(runtime.state))
    runtime.on_start(cached.start)
    runtime.on_stop(cached.close)
    return cached


def serve_target() -> Litestar:
    """Entry point of each granian worker: the CLI hands the effective settings down."""
    settings = msgspec.json.decode(os.environ[SETTINGS_ENV], type=Settings)
    configure_logging(settings.logging)
    return build_app(settings)
