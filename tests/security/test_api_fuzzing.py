"""API fuzzing: schemathesis over the server's own OpenAPI schema, with a bounded
budget, as an operator (every policy-plane route) and as an API key (the /v1 routes).
No generated request may get a 5xx.

Routes that end the caller's own session (logout, refresh) are left out: they would
turn the rest of the run into 401s.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.gateway_fixtures import create_key
from tests.identity_support import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.processes import InferiaServer
from tests.security.attack_support import attacked_gateway
from tests.services import unavailable

pytestmark = pytest.mark.e2e

# schemathesis' CLI, installed by the [test] extra beside this interpreter.
ST = Path(sys.executable).with_name("st")
# Examples per operation: the CI budget (a release run raises it, docs/reliability.md).
MAX_EXAMPLES = "5"


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[InferiaServer, str]]:
    if not ST.exists():
        unavailable("schemathesis is not installed (pip install -e '.[test]')")
    tmp = tmp_path_factory.mktemp("fuzzing")
    # Every plane: the control plane's routes too.
    with attacked_gateway(tmp, every_plane=True) as (_, server, env):
        yield server, create_key(env)


def _schemathesis(server: InferiaServer, token: str, *selection: str) -> str:
    # Its cache (.schemathesis/) goes to the server's temporary directory, not the repo.
    result = subprocess.run(
        [
            str(ST),
            "run",
            f"{server.base_url}/docs/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            MAX_EXAMPLES,
            "--seed",
            "17",
            "--request-timeout",
            "20",
            "--workers",
            "1",
            "-H",
            f"Authorization: Bearer {token}",
            *selection,
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=server.env["INFERIA_DATA_DIR"],
    )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    return result.stdout


def test_no_generated_request_to_the_policy_planes_gets_a_5xx(
    running: tuple[InferiaServer, str],
) -> None:
    server, _ = running
    login = httpx.post(
        f"{server.base_url}/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    token = login.json()["access_token"]
    _schemathesis(
        server,
        token,
        "--exclude-path-regex",
        "^/(v1/|auth/(logout|refresh))",
    )
    assert "Internal error" not in server.output


def test_no_generated_request_to_v1_gets_a_5xx(running: tuple[InferiaServer, str]) -> None:
    server, key = running
    _schemathesis(server, key, "--include-path-regex", "^/v1/")
