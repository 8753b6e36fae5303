"""Log injection: client data must not forge lines of the plain log.

Whatever a client sends (an e-mail at login, a path), each record stays one line of
the log: control characters arrive escaped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.identity_support import ADMIN_EMAIL, ADMIN_PASSWORD, CHEAP_ARGON2_ENV
from tests.processes import InferiaServer, inferia_env, wait_until

pytestmark = pytest.mark.e2e

FORGED = "FORGED inferia.filtration: operator logged in"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InferiaServer]:
    env = inferia_env(
        Path(tmp_path_factory.mktemp("log-injection")),
        INFERIA_ADMIN_EMAIL=ADMIN_EMAIL,
        INFERIA_ADMIN_PASSWORD=ADMIN_PASSWORD,
        INFERIA_LOGGING__ACCESS_LOG="true",
        **CHEAP_ARGON2_ENV,
    )
    with InferiaServer(env) as running:
        yield running


def forged_lines(server: InferiaServer) -> list[str]:
    # Logged e-mails are lower-cased.
    return [line for line in server.output.splitlines() if line.lower().startswith("forged")]


def test_a_failed_login_cannot_write_a_line_of_its_own(server: InferiaServer) -> None:
    for separator in ("\n", "\r\n", "\r", "\u2028"):
        reply = httpx.post(
            f"{server.base_url}/auth/login",
            json={"email": f"x@example.com{separator}{FORGED}", "password": "wrong" * 4},
        )
        assert reply.status_code == 401
    wait_until(lambda: server.output.count("x@example.com") >= 4)
    assert forged_lines(server) == []
    assert "x@example.com\\nforged" in server.output  # escaped, still readable


def test_a_path_cannot_write_a_line_of_its_own_into_the_access_log(
    server: InferiaServer,
) -> None:
    path = "/health%0a" + FORGED.replace(" ", "%20")
    reply = httpx.get(f"{server.base_url}{path}")
    assert reply.status_code == 404
    wait_until(lambda: "/health" in server.output and "404" in server.output)
    assert forged_lines(server) == []
