"""The OpenAPI schema and its browsable page, served with no request leaving the machine.

``GET /docs/openapi.json`` is the schema; ``GET /docs`` (also ``/docs/swagger``) the
Swagger UI page. Litestar's default page loads Swagger UI from a CDN, which leaves it
blank offline and on closed networks: its assets come from the ``swagger-ui-bundle``
package instead, served under ``/docs/assets``.
"""

from __future__ import annotations

from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
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
            )
        ],
    )


def openapi_asset_routes() -> list[ControllerRouterHandler]:
    return [
        create_static_files_router(
            path=_ASSETS, directories=[str(swagger_ui_path)], include_in_schema=False
        )
    ]
