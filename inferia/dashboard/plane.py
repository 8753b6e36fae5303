"""Serves the built dashboard bundle under ``/dashboard``."""

from __future__ import annotations

from pathlib import Path

from litestar.handlers import BaseRouteHandler
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

STATIC_DIR = Path(__file__).parent / "static"


def dashboard_routes() -> list[ControllerRouterHandler | BaseRouteHandler]:
    return [
        create_static_files_router(
            path="/dashboard", directories=[STATIC_DIR], html_mode=True, include_in_schema=False
        )
    ]
