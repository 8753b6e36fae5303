"""The identity plane as users meet it: a real ``inferia serve``, driven over HTTP,
and the ``inferia keys`` / ``inferia admin`` commands."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pyotp
import pytest

from tests.identity_support import ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, admin_env
from tests.processes import InferiaServer, run_cli

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("auth-e2e")


@pytest.fixture(scope="module")
def env(data_dir: Path) -> dict[str, str]:
    return admin_env(data_dir)


@pytest.fixture(scope="module")
def server(env: dict[str, str]) -> Iterator[InferiaServer]:
    with InferiaServer(env) as running:
        yield running


def post(
    server: InferiaServer, path: str, token: str | None = None, **body: object
) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{server.base_url}{path}", json=body, headers=headers)


def test_login_totp_refresh_logout(server: InferiaServer) -> None:
    tokens = post(server, "/auth/login", email=ADMIN_EMAIL, password=ADMIN_PASSWORD).json()
    access = tokens["access_token"]
    setup = post(server, "/auth/totp/setup", access).json()
    totp = pyotp.TOTP(setup["secret"])
    assert setup["otpauth_uri"] == totp.provisioning_uri(name=ADMIN_EMAIL, issuer_name="Inferia")
    enabled = post(server, "/auth/totp/verify", access, code=totp.now())
    assert enabled.status_code == 200 and len(enabled.json()["recovery_codes"]) == 10

    needs_code = post(server, "/auth/login", email=ADMIN_EMAIL, password=ADMIN_PASSWORD)
    assert needs_code.status_code == 401
    assert needs_code.json()["error"]["code"] == "totp_required"
    # The code used to enrol cannot be used again; a recovery code can, once.
    replay = post(
        server, "/auth/login", email=ADMIN_EMAIL, password=ADMIN_PASSWORD, totp=totp.now()
    )
    assert replay.status_code == 401
    recovery = enabled.json()["recovery_codes"][0]
    second = post(server, "/auth/login", email=ADMIN_EMAIL, password=ADMIN_PASSWORD, totp=recovery)
    assert second.status_code == 200, second.text

    refreshed = post(server, "/auth/refresh", refresh_token=second.json()["refresh_token"])
    assert refreshed.status_code == 200
    reuse = post(server, "/auth/refresh", refresh_token=second.json()["refresh_token"])
    assert reuse.status_code == 401
    me = httpx.get(
        f"{server.base_url}/auth/me",
        headers={"authorization": f"Bearer {refreshed.json()['access_token']}"},
    )
    assert me.status_code == 401  # the family was revoked by the reuse

    third = post(
        server,
        "/auth/login",
        email=ADMIN_EMAIL,
        password=ADMIN_PASSWORD,
        totp=enabled.json()["recovery_codes"][1],
    ).json()
    assert post(server, "/auth/logout", third["access_token"]).status_code == 204
    assert post(server, "/auth/refresh", refresh_token=third["refresh_token"]).status_code == 401
    # Turn 2FA off again for the other tests of this module.
    fourth = post(
        server,
        "/auth/login",
        email=ADMIN_EMAIL,
        password=ADMIN_PASSWORD,
        totp=enabled.json()["recovery_codes"][2],
    ).json()
    off = post(
        server,
        "/auth/totp/disable",
        fourth["access_token"],
        password=ADMIN_PASSWORD,
        code=enabled.json()["recovery_codes"][3],
    )
    assert off.status_code == 204, off.text


def test_management_api_keys_work_on_v1_and_are_shown_once(server: InferiaServer) -> None:
    access = post(server, "/auth/login", email=ADMIN_EMAIL, password=ADMIN_PASSWORD).json()[
        "access_token"
    ]
    created = post(server, "/management/api-keys", access, name="sdk")
    assert created.status_code == 201
    key, record = created.json()["key"], created.json()["api_key"]
    client = openai.OpenAI(api_key=key, base_url=f"{server.base_url}/v1", max_retries=0)
    client.models.list()  # accepted
    listed = httpx.get(
        f"{server.base_url}/management/api-keys", headers={"authorization": f"Bearer {access}"}
    )
    assert key not in listed.text and record["prefix"] in listed.text
    revoked = httpx.delete(
        f"{server.base_url}/management/api-keys/{record['id']}",
        headers={"authorization": f"Bearer {access}"},
    )
    assert revoked.status_code == 200
    with pytest.raises(openai.AuthenticationError):
        client.models.list()


def test_keys_and_admin_commands(server: InferiaServer, env: dict[str, str]) -> None:
    created = run_cli(["keys", "create", "--name", "cli", "--model", "m1"], env)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert created.stdout == key + "\n" and key.startswith("sk-inf-")  # the key, alone
    listed = run_cli(["keys", "list"], env)
    public = key.split("-")[2]
    assert f"sk-inf-{public}" in listed.stdout and key not in listed.stdout
    assert "models=m1" in listed.stdout
    assert run_cli(["keys", "revoke", f"sk-inf-{public}"], env).returncode == 0
    assert f"sk-inf-{public}" not in run_cli(["keys", "list"], env).stdout
    assert "revoked" in run_cli(["keys", "list", "--all"], env).stdout
    unknown = run_cli(["keys", "revoke", "sk-inf-nosuchkey000"], env)
    assert unknown.returncode == 2 and "not found" in unknown.stderr
    bad_expiry = run_cli(["keys", "create", "--name", "x", "--expires", "soon"], env)
    assert bad_expiry.returncode == 2 and "ISO 8601" in bad_expiry.stderr

    user = run_cli(
        ["admin", "create-user", "--email", "ops@example.com", "--password", PASSWORD], env
    )
    assert user.returncode == 0, user.stderr
    assert (
        run_cli(
            ["admin", "set-role", "--email", "ops@example.com", "--role", "viewer"], env
        ).returncode
        == 0
    )
    users = run_cli(["admin", "list-users"], env).stdout
    assert "ops@example.com  viewer  active" in users
    org = run_cli(["admin", "create-org", "--slug", "team-b", "--owner", "ops@example.com"], env)
    assert org.returncode == 0, org.stderr
    assert (
        "ops@example.com  owner" in run_cli(["admin", "list-users", "--org", "team-b"], env).stdout
    )
    disabled = run_cli(["admin", "disable-user", "--email", "ops@example.com"], env)
    assert disabled.returncode == 0
    assert "ops@example.com  viewer  disabled" in run_cli(["admin", "list-users"], env).stdout
    # The operator's actions are in the audit trail, attributed to the CLI.
    access = post(server, "/auth/login", email=ADMIN_EMAIL, password=ADMIN_PASSWORD).json()[
        "access_token"
    ]
    logs = httpx.get(
        f"{server.base_url}/audit/logs",
        params={"action": "api_key.*"},
        headers={"authorization": f"Bearer {access}"},
    ).json()["data"]
    assert any(row["client_address"] == "cli" and row["action"] == "api_key.revoke" for row in logs)
