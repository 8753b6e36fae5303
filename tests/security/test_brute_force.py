"""Brute force: a concurrent burst of guesses gets no more tries than the bound.

Each burst sends 20 wrong guesses at once for one account, with a bound of 5 per
account: at most 5 are evaluated, the others are refused with 429 before any check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import BackendPair
from tests.identity_support import PASSWORD, unique_email
from tests.processes import InferiaServer
from tests.security.attack_support import Api, enable_totp, server_env, servers, wrong_code

pytestmark = pytest.mark.e2e

BOUND = 5
BURST = 20


@pytest.fixture(scope="module")
def server(module_pair: BackendPair) -> Iterator[InferiaServer]:
    env = server_env(
        module_pair,
        INFERIA_AUTH__LOGIN_MAX_FAILURES_PER_ACCOUNT=str(BOUND),
        INFERIA_AUTH__LOGIN_MAX_FAILURES_PER_ADDRESS="1000",
    )
    with servers(env) as (running,):
        yield running


def burst(guess: Callable[[], httpx.Response]) -> list[int]:
    with ThreadPoolExecutor(BURST) as pool:
        return sorted(reply.status_code for reply in pool.map(lambda _: guess(), range(BURST)))


def assert_bounded(statuses: list[int]) -> None:
    evaluated = [status for status in statuses if status != 429]
    assert len(evaluated) <= BOUND, f"{len(evaluated)} of {BURST} guesses evaluated: {statuses}"
    assert all(status in (401, 403) for status in evaluated), statuses


def test_a_burst_of_wrong_passwords(server: InferiaServer) -> None:
    _, email = Api.login(server).add_member()
    statuses = burst(
        lambda: httpx.post(
            f"{server.base_url}/auth/login", json={"email": email, "password": "wrong" * 4}
        )
    )
    assert_bounded(statuses)


def test_a_burst_of_wrong_totp_codes(server: InferiaServer) -> None:
    _, email = Api.login(server).add_member()
    totp, _ = enable_totp(Api.login(server, email, PASSWORD))
    code = wrong_code(totp)
    statuses = burst(
        lambda: httpx.post(
            f"{server.base_url}/auth/login",
            json={"email": email, "password": PASSWORD, "totp": code},
        )
    )
    assert_bounded(statuses)


def test_a_burst_of_wrong_passwords_to_disable_totp(server: InferiaServer) -> None:
    _, email = Api.login(server).add_member()
    victim = Api.login(server, email, PASSWORD)
    totp, _ = enable_totp(victim)
    statuses = burst(
        lambda: victim.post("/auth/totp/disable", {"password": "wrong" * 4, "code": totp.now()})
    )
    assert_bounded(statuses)


def test_a_burst_of_wrong_passwords_to_accept_an_invitation(server: InferiaServer) -> None:
    admin = Api.login(server)
    # An existing account that is not (or no longer) a member: accepting asks its password.
    user_id, email = admin.add_member(email=unique_email())
    assert admin.request("DELETE", f"/admin/users/{user_id}").status_code == 204
    invited = admin.post("/management/members/invitations", {"email": email})
    assert invited.status_code == 201, invited.text
    token = invited.json()["token"]
    statuses = burst(
        lambda: httpx.post(
            f"{server.base_url}/auth/accept-invite",
            json={"token": token, "password": "wrong" * 4},
        )
    )
    assert_bounded(statuses)
