"""The OpenAPI schema and its browsable page, served with no request leaving the machine.

``GET /docs/openapi.json`` is the schema; ``GET /docs`` (also ``/docs/swagger``) the
Swagger UI page. Litestar's default page loads Swagger UI from a CDN, which leaves it
blank offline and on closed networks: its assets come from the ``swagger-ui-bundle``
package instead, served under ``/docs/assets``.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import OpenAPI
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler
from swagger_ui_bundle import swagger_ui_path

from inferia import __version__

DOCS_PATH = "/docs"
_ASSETS = f"{DOCS_PATH}/assets"


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Inferia",
        version=__version__,
        path=DOCS_PATH,
        render_plugins=[
            SwaggerRenderPlugin(
                js_url=f"{_ASSETS}/swagger-ui-bundle.js",
                css_url=f"{_ASSETS}/swagger-ui.css",
                standalone_preset_js_url=f"{_ASSETS}/swagger-ui-standalone-preset.js",
                path=["/", "/swagger"],
                # Litestar's default icon is on a CDN: the packaged one, so the page
                # fetches nothing from another host.
                favicon=f"<link rel='icon' type='image/png' href='{_ASSETS}/favicon-32x32.png'>",
            )
        ],
    )


def openapi_asset_routes() -> list[ControllerRouterHandler]:
    return [
        create_static_files_router(
            path=_ASSETS, directories=[str(swagger_ui_path)], include_in_schema=False
        )
    ]


_EXTRA_STATE_KEY = "openapi_extra_operations"


class _ExtendedOpenAPIPlugin(OpenAPIPlugin):
    """Litestar's OpenAPI plugin, plus the operations ``add_operations`` left in the app
    state. No state of its own (``__slots__ = ()``): an instance of the parent can
    become one."""

    __slots__ = ()

    def _build_openapi(self) -> OpenAPI:
        openapi = super()._build_openapi()
        paths, schemas, security_schemes = self.app.state[_EXTRA_STATE_KEY]
        # Plain data: Litestar serialises dicts as they are.
        openapi.paths = {**(openapi.paths or {}), **paths}
        if openapi.components is not None:
            components = openapi.components
            components.schemas = {**(components.schemas or {}), **schemas}
            components.security_schemes = {
                **(components.security_schemes or {}),
                **security_schemes,
            }
        return openapi


def add_operations(
    app: Litestar,
    paths: dict[str, Any],
    schemas: dict[str, Any],
    security_schemes: dict[str, Any],
) -> None:
    """Add operations served beside Litestar (the /v1 POSTs), given as OpenAPI data, to
    the schema Litestar builds, when it first builds it (not now: building it costs
    ~0.3 s, which a worker never asked for it should not pay). Litestar has no public
    hook for this and adds its plugin itself, so the plugin's class is swapped for a
    subclass; ``tests/e2e/test_openapi.py`` fails if Litestar changes underneath."""
    app.state[_EXTRA_STATE_KEY] = (paths, schemas, security_schemes)
    plugin = app.plugins.get(OpenAPIPlugin)
    plugin.__class__ = _ExtendedOpenAPIPlugin
