"""The OpenAPI schema and its page, as a user browsing ``/docs`` on a closed network."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.processes import InferiaServer, inferia_env

pytestmark = pytest.mark.e2e


def test_the_docs_page_loads_every_asset_from_the_server_itself(tmp_path: Path) -> None:
    with InferiaServer(inferia_env(tmp_path)) as server:
        page = httpx.get(f"{server.base_url}/docs")
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
        assert all(not a.startswith(("http:", "https:", "//")) for a in assets), assets
        for asset in assets:
            loaded = httpx.get(f"{server.base_url}{asset}")
            assert loaded.status_code == 200, asset
            assert len(loaded.content) > 1000, asset
        schema = httpx.get(f"{server.base_url}/docs/openapi.json").json()
        assert schema["info"]["title"] == "Inferia"
        assert "/management/models" in schema["paths"]
        # The control plane's routes are documented too (a schema default that cannot be
        # hashed once broke the whole page).
        assert {"/inventory/nodes", "/inventory/heartbeat", "/deployment/deploy"} <= set(
            schema["paths"]
        )
