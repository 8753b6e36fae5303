"""Serves the built dashboard bundle under ``/dashboard``: its files, ``index.html``
for every other path below it (the app routes in the browser), and ``config.json``
telling the app where the APIs are."""

from __future__ import annotations

from pathlib import Path

from litestar import Response, get
from litestar.datastructures import State
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath
from litestar.response import File
from litestar.types import ControllerRouterHandler

from inferia.runtime import Runtime

STATIC_DIR = Path(__file__).parent / "static"
INDEX = STATIC_DIR / "index.html"

# The app loads only its own files and talks only to the APIs it is configured with;
# inline scripts never run, so a string that slipped past React's escaping is inert.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'{extra}; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'; object-src 'none'"
)


def _api_bases(runtime: Runtime) -> dict[str, str]:
    """One-process mode: the APIs are on this origin (""). Split mode: the policy
    plane's URL from ``remote.filtration_url``."""
    planes = set(runtime.settings.planes)
    api_base = "" if "filtration" in planes else runtime.settings.remote.filtration_url
    return {"api_base": api_base.rstrip("/"), "gateway_base": ""}


def _headers(runtime: Runtime, *, immutable: bool) -> dict[str, str]:
    extra = "".join(f" {url}" for url in _api_bases(runtime).values() if url)
    return {
        "content-security-policy": _CSP.format(extra=extra),
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        # Hashed asset names change with their content; the page itself never caches.
        "cache-control": "public, max-age=31536000, immutable" if immutable else "no-cache",
    }


def _runtime(state: State) -> Runtime:
    runtime: Runtime = state.runtime
    return runtime


@get("/dashboard/config.json", include_in_schema=False, sync_to_thread=False)
def dashboard_config(state: State) -> Response[dict[str, str]]:
    runtime = _runtime(state)
    return Response(_api_bases(runtime), headers={"cache-control": "no-cache"})


@get("/dashboard", include_in_schema=False, sync_to_thread=False)
def dashboard_index(state: State) -> File:
    return _serve(_runtime(state), "")


@get("/dashboard/{path:path}", include_in_schema=False, sync_to_thread=False)
def dashboard_file(state: State, path: FromPath[str]) -> File:
    return _serve(_runtime(state), path)


def _serve(runtime: Runtime, path: str) -> File:
    """A file of the bundle, or index.html for any other path (the app's routes);
    nothing outside the bundle's directory is ever read."""
    candidate = (STATIC_DIR / path.lstrip("/")).resolve()
    is_file = candidate.is_relative_to(STATIC_DIR.resolve()) and candidate.is_file()
    target = candidate if is_file else INDEX
    immutable = is_file and candidate.parent.name == "assets"
    return File(
        target,
        filename=target.name,
        content_disposition_type="inline",
        headers=_headers(runtime, immutable=immutable),
    )


def dashboard_routes() -> list[ControllerRouterHandler | BaseRouteHandler]:
    return [dashboard_config, dashboard_index, dashboard_file]
