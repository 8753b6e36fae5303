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
        # Either quote: Litestar writes the icon's link with single ones.
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
        assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
        assert all(not a.startswith(("http:", "https:", "//")) for a in assets), assets
        for asset in assets:
            loaded = httpx.get(f"{server.base_url}{asset}")
            assert loaded.status_code == 200, asset
            assert len(loaded.content) > 500, asset
        schema = httpx.get(f"{server.base_url}/docs/openapi.json").json()
        assert schema["info"]["title"] == "Inferia"
        assert "/management/models" in schema["paths"]
        # The control plane's routes are documented too (a schema default that cannot be
        # hashed once broke the whole page).
        assert {"/inventory/nodes", "/inventory/heartbeat", "/deployment/deploy"} <= set(
            schema["paths"]
        )


def test_the_schema_describes_the_v1_posts(tmp_path: Path) -> None:
    """They are served beside Litestar; the schema still has them, with their bodies and
    the OpenAI error envelope."""
    with InferiaServer(inferia_env(tmp_path)) as server:
        schema = httpx.get(f"{server.base_url}/docs/openapi.json").json()
    for path in ("/v1/chat/completions", "/v1/completions", "/v1/embeddings"):
        post = schema["paths"][path]["post"]
        ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        body = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
        assert "model" in body["required"]
        assert {"200", "400", "401", "429", "502"} <= set(post["responses"])
        error = post["responses"]["400"]["content"]["application/json"]["schema"]
        assert error["required"] == ["error"]
    chat = schema["components"]["schemas"]["V1ChatCompletionRequest"]
    assert chat["properties"]["messages"]["items"]["$ref"].endswith("V1Message")
    assert schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    assert "/v1/models" in schema["paths"]
