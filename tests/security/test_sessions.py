"""Session attacks: a session must not outlive a change of the credentials it was
opened with."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import BackendPair
from tests.identity_support import PASSWORD
from tests.processes import InferiaServer
from tests.security.attack_support import Api, enable_totp, server_env, servers

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(module_pair: BackendPair) -> Iterator[InferiaServer]:
    with servers(server_env(module_pair)) as (running,):
        yield running


def open_session(server: InferiaServer, email: str, **extra: str) -> tuple[Api, str]:
    reply = httpx.post(
        f"{server.base_url}/auth/login", json={"email": email, "password": PASSWORD, **extra}
    )
    assert reply.status_code == 200, reply.text
    return Api(server, reply.json()["access_token"]), reply.json()["refresh_token"]


def assert_ended(server: InferiaServer, session: Api, refresh_token: str) -> None:
    assert session.get("/auth/me").status_code == 401
    refreshed = httpx.post(f"{server.base_url}/auth/refresh", json={"refresh_token": refresh_token})
    assert refreshed.status_code == 401


def test_password_only_sessions_end_when_2fa_is_enabled_or_disabled(
    server: InferiaServer,
) -> None:
    _, email = Api.login(server).add_member()
    stolen, stolen_refresh = open_session(server, email)  # e.g. a leaked password's session
    owner, _ = open_session(server, email)
    _, recovery_codes = enable_totp(owner)
    assert_ended(server, stolen, stolen_refresh)
    assert owner.get("/auth/me").status_code == 200  # the session that enrolled stays

    other, other_refresh = open_session(server, email, totp=recovery_codes[0])
    disabled = owner.post("/auth/totp/disable", {"password": PASSWORD, "code": recovery_codes[1]})
    assert disabled.status_code == 204, disabled.text
    assert_ended(server, other, other_refresh)
    assert owner.get("/auth/me").status_code == 200
