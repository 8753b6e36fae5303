"""The compute adapter that docs/plugins.md shows, taken from the page as it is, installed
as a third party would (a distribution with an ``inferia.compute_adapters`` entry point)
and driven through a real ``inferia serve``: a pool on it, a deployment routed to the
server it names, a completion through the gateway with the generated key."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.e2e.fake_upstream import FakeUpstream
from tests.e2e.gateway_fixtures import client, create_key
from tests.e2e.orchestration_support import TINY_SERVER, admin, orchestration_env
from tests.processes import InferiaServer, free_port

pytestmark = pytest.mark.e2e
PLUGINS_DOC = Path(__file__).parents[2] / "docs" / "plugins.md"


def install_documented_adapter(site: Path) -> str:
    """Writes the page's module and entry point into ``site``; returns the adapter name."""
    page = PLUGINS_DOC.read_text()
    code = re.search(r"```python\n# my_adapter/__init__.py\n(.*?)```", page, re.S)
    entry = re.search(
        r'\[project\.entry-points\."inferia\.compute_adapters"\]\n(\w+) = "([\w.:]+)"', page
    )
    assert code and entry, "docs/plugins.md lost its example"
    (site / "my_adapter").mkdir(parents=True)
    (site / "my_adapter" / "__init__.py").write_text(code.group(1))
    dist = site / "my_adapter-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-adapter\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        f"[inferia.compute_adapters]\n{entry.group(1)} = {entry.group(2)}\n"
    )
    return entry.group(1)


def test_the_documented_adapter_runs_a_deployment(tmp_path: Path) -> None:
    name = install_documented_adapter(tmp_path / "site")
    python_path = os.pathsep.join(
        filter(None, [str(tmp_path / "site"), os.environ.get("PYTHONPATH")])
    )
    upstream = FakeUpstream([free_port()]).start()
    try:
        env = orchestration_env(tmp_path / "data", PYTHONPATH=python_path)
        with InferiaServer(env) as server:
            user = admin(server)
            refused = user.call(
                "POST", "/deployment/createpool", json={"name": "x", "provider": name}
            )
            assert refused.status_code == 422 and "urls" in refused.json()["error"]["message"]
            pool = user.create_pool("fixed", provider=name, config={"urls": [upstream.url()]})
            model = {
                "name": "static-chat",
                "version": "1",
                "artifact_uri": f"file://{TINY_SERVER}",
                "engine": "openai-compatible",
                "command": ["unused"],
            }
            assert user.call("POST", "/deployment/registerModel", json=model).status_code == 201
            deployment = user.call(
                "POST",
                "/deployment/deploy",
                json={"model": "static-chat", "version": "1", "pool_id": pool["id"]},
            ).json()
            status = user.wait_state(deployment["id"], "RUNNING", timeout=20)
            assert status["endpoints"] == [upstream.url()]
            key = create_key(server.env)
            answer = client(server, key).chat.completions.create(
                model="static-chat", messages=[{"role": "user", "content": "hi"}]
            )
            assert answer.choices
            chats = [r for r in upstream.requests() if r["path"].endswith("/chat/completions")]
            # The gateway presented the key Inferia generated for this replica, not the client's.
            headers = {k.lower(): v for k, v in chats[-1]["headers"].items()}
            presented = headers["authorization"]
            assert presented.startswith("Bearer sk-inferia-") and key not in presented
            user.call("POST", f"/deployment/terminate/{deployment['id']}")
            user.wait_state(deployment["id"], "TERMINATED", timeout=15)
    finally:
        upstream.stop()
