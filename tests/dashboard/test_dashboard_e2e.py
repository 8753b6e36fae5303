"""The dashboard in a real browser: a real ``inferia serve`` (one process, every plane)
with a fake upstream, driven by the scenarios in inferia/dashboard/web/e2e (vitest +
playwright-core on Debian's Chromium, axe for accessibility). Screenshots of the main
pages are taken every run; they replace docs/dashboard/'s only with
INFERIA_UPDATE_SCREENSHOTS=1 (a test run leaves the tree as it found it).

Needs Node.js, ``npm ci`` in inferia/dashboard/web, and ``chromium``: locally a missing
one skips, in CI (CI=true) it fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.fake_upstream import FakeUpstream
from tests.e2e.gateway_fixtures import write_config
from tests.identity_support import CHEAP_ARGON2_ENV
from tests.processes import InferiaServer, free_port, inferia_env
from tests.services import unavailable

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "inferia" / "dashboard" / "web"
DOCS_SCREENSHOTS = ROOT / "docs" / "dashboard"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct horse battery"


def chromium() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not path:
        unavailable("chromium is not installed (apt-get install chromium)")
    return str(path)


def node_tools() -> str:
    npx = shutil.which("npx")
    if not npx:
        unavailable("Node.js is not installed")
    if not (WEB / "node_modules" / "playwright-core").is_dir():
        unavailable(f"the dashboard's packages are not installed (npm ci in {WEB})")
    return str(npx)


@pytest.mark.timeout(300)
def test_dashboard_in_chromium(tmp_path: Path) -> None:
    browser = chromium()
    npx = node_tools()
    fake = FakeUpstream([free_port()]).start()
    try:
        # Words arrive 150 ms apart, so the playground's stream is seen growing.
        fake.set("a", chunks=8, chunk_delay_s=0.15)
        models = [{"name": "fake-model", "base_url": fake.url(), "api_key": "upstream-key"}]
        # API-defined upstreams may be private here: the e2e model points at the fake.
        config = write_config(
            tmp_path / "inferia.toml", models, {"allow_private_api_upstreams": True}
        )
        env = inferia_env(
            tmp_path / "data",
            INFERIA_CONFIG=str(config),
            INFERIA_ADMIN_EMAIL=ADMIN_EMAIL,
            INFERIA_ADMIN_PASSWORD=ADMIN_PASSWORD,
            **CHEAP_ARGON2_ENV,
        )
        with InferiaServer(env) as server:
            result = subprocess.run(
                [npx, "vitest", "run", "--config", "vitest.e2e.config.ts"],
                cwd=WEB,
                env={
                    **os.environ,
                    "CHROMIUM": browser,
                    "INFERIA_E2E_URL": server.base_url,
                    "INFERIA_E2E_ADMIN_EMAIL": ADMIN_EMAIL,
                    "INFERIA_E2E_ADMIN_PASSWORD": ADMIN_PASSWORD,
                    "INFERIA_E2E_UPSTREAM_URL": fake.url(),
                    "INFERIA_E2E_SCREENSHOTS": str(
                        DOCS_SCREENSHOTS
                        if os.environ.get("INFERIA_UPDATE_SCREENSHOTS") == "1"
                        else tmp_path / "screenshots"
                    ),
                    "INFERIA_E2E_ARTIFACTS": str(tmp_path),
                    "NO_COLOR": "1",
                },
                capture_output=True,
                text=True,
                timeout=280,
                check=False,
            )
            (tmp_path / "e2e.log").write_text(result.stdout + result.stderr)
            assert result.returncode == 0, (
                f"browser scenarios failed:\n{result.stdout[-12000:]}\n{result.stderr[-4000:]}"
                f"\nserver log:\n{server.output[-4000:]}"
            )
    finally:
        fake.stop()
