"""Changing a password, as a user and as an operator: a real ``inferia serve`` over
HTTP, and ``inferia admin reset-password`` as a subprocess."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.identity_support import ADMIN_EMAIL, ADMIN_PASSWORD, admin_env
from tests.processes import InferiaServer, run_cli

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "a brand new passphrase"
RESET_PASSWORD = "the operator chose this one"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return admin_env(tmp_path_factory.mktemp("passwords-e2e"))


@pytest.fixture(scope="module")
def server(env: dict[str, str]) -> Iterator[InferiaServer]:
    with InferiaServer(env) as running:
        yield running


def login(server: InferiaServer, password: str) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}/auth/login", json={"email": ADMIN_EMAIL, "password": password}
    )


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def change(server: InferiaServer, token: str, current: str, new: str) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}/auth/password",
        json={"current_password": current, "new_password": new},
        headers=bearer(token),
    )


def me(server: InferiaServer, token: str) -> int:
    return httpx.get(f"{server.base_url}/auth/me", headers=bearer(token)).status_code


def test_first_start_banner_says_how_to_change_the_password(server: InferiaServer) -> None:
    assert "POST /auth/password" in server.output
    assert f"inferia admin reset-password {ADMIN_EMAIL}" in server.output


def test_change_own_password_ends_the_other_sessions(server: InferiaServer) -> None:
    here = login(server, ADMIN_PASSWORD).json()["access_token"]
    elsewhere = login(server, ADMIN_PASSWORD).json()["access_token"]

    wrong = change(server, here, "not my password at all", NEW_PASSWORD)
    assert wrong.status_code == 403, wrong.text
    weak = change(server, here, ADMIN_PASSWORD, "short")
    assert weak.status_code == 422 and weak.json()["error"]["param"] == "new_password"
    same = change(server, here, ADMIN_PASSWORD, ADMIN_PASSWORD)
    assert same.status_code == 422
    assert me(server, elsewhere) == 200  # nothing changed yet

    changed = change(server, here, ADMIN_PASSWORD, NEW_PASSWORD)
    assert changed.status_code == 204, changed.text
    assert me(server, here) == 200
    assert me(server, elsewhere) == 401
    assert login(server, ADMIN_PASSWORD).status_code == 401
    fresh = login(server, NEW_PASSWORD)
    assert fresh.status_code == 200

    logs = httpx.get(
        f"{server.base_url}/audit/logs", headers=bearer(fresh.json()["access_token"])
    ).json()
    entries = logs["data"] if isinstance(logs, dict) else logs
    changes = [e for e in entries if e["action"] == "auth.password.change"]
    assert {e["outcome"] for e in changes} == {"success", "failure"}
    assert not any(NEW_PASSWORD in str(e) or ADMIN_PASSWORD in str(e) for e in entries)


def test_operator_reset_from_stdin_ends_every_session(
    server: InferiaServer, env: dict[str, str]
) -> None:
    session = login(server, NEW_PASSWORD).json()["access_token"]
    # Never on the command line.
    argv = run_cli(["admin", "reset-password", ADMIN_EMAIL, "--password", "x" * 20], env)
    assert argv.returncode == 2
    weak = run_cli(["admin", "reset-password", ADMIN_EMAIL], env, stdin="short\n")
    assert weak.returncode == 2 and "at least" in weak.stderr
    assert me(server, session) == 200

    reset = run_cli(["admin", "reset-password", ADMIN_EMAIL], env, stdin=RESET_PASSWORD + "\n")
    assert reset.returncode == 0, reset.stderr
    assert RESET_PASSWORD not in reset.stdout + reset.stderr
    assert me(server, session) == 401
    assert login(server, NEW_PASSWORD).status_code == 401
    token = login(server, RESET_PASSWORD).json()["access_token"]
    logs = httpx.get(f"{server.base_url}/audit/logs", headers=bearer(token)).json()
    entries = logs["data"] if isinstance(logs, dict) else logs
    assert any(e["action"] == "auth.password.reset" for e in entries)

    unknown = run_cli(["admin", "reset-password", "nobody@example.com"], env, stdin="x" * 20)
    assert unknown.returncode == 2 and "no user" in unknown.stderr


def test_wrong_current_passwords_are_throttled_like_logins(server: InferiaServer) -> None:
    token = login(server, RESET_PASSWORD).json()["access_token"]
    statuses = [
        change(server, token, f"guess number {n:02d}", NEW_PASSWORD).status_code for n in range(6)
    ]
    assert statuses[:5] == [403] * 5 and statuses[5] == 429
    # The account's real owner is held back too, as after five failed logins.
    assert login(server, RESET_PASSWORD).status_code == 429
