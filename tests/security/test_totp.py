"""Attacks on the second factor: replayed recovery codes, codes in odd digits, and the
answer a replayed code gets."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pyotp
import pytest

from tests.conftest import BackendPair
from tests.identity_support import PASSWORD, totp_code
from tests.processes import InferiaServer
from tests.security.attack_support import Api, enable_totp, server_env, servers, wrong_code

pytestmark = pytest.mark.e2e

RACERS = 20


@pytest.fixture(scope="module")
def server(module_pair: BackendPair) -> Iterator[InferiaServer]:
    # Room for a burst of logins with one code: the throttle is not what is tested here.
    env = server_env(module_pair, INFERIA_AUTH__LOGIN_MAX_FAILURES_PER_ACCOUNT="100")
    with servers(env) as (running,):
        yield running


def login(server: InferiaServer, email: str, password: str, code: str) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}/auth/login",
        json={"email": email, "password": password, "totp": code},
        timeout=60,
    )


def person_with_totp(server: InferiaServer) -> tuple[Api, str, str, list[str]]:
    """A member with 2FA on: their session, e-mail, TOTP secret and recovery codes."""
    _, email = Api.login(server).add_member()
    person = Api.login(server, email, PASSWORD)
    totp, recovery_codes = enable_totp(person)
    return person, email, totp.secret, recovery_codes


def test_one_recovery_code_logs_in_once_under_concurrent_logins(server: InferiaServer) -> None:
    _, email, _, recovery_codes = person_with_totp(server)
    with ThreadPoolExecutor(RACERS) as pool:
        replies = list(
            pool.map(lambda _: login(server, email, PASSWORD, recovery_codes[0]), range(RACERS))
        )
    statuses = sorted(reply.status_code for reply in replies)
    assert statuses.count(200) == 1, statuses
    assert set(statuses) == {200, 401}, statuses
    # The other codes still work, once each.
    assert login(server, email, PASSWORD, recovery_codes[1]).status_code == 200
    assert login(server, email, PASSWORD, recovery_codes[1]).status_code == 401


# Arabic-Indic, full-width and extended Arabic-Indic digits: str.isdigit() says yes.
OTHER_DIGITS = [
    "\u0661\u0662\u0663\u0664\u0665\u0666",
    "\uff11\uff12\uff13\uff14\uff15\uff16",
    "\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6",
]


@pytest.mark.parametrize("code", OTHER_DIGITS)
def test_codes_in_other_digits_are_refused_not_a_server_error(
    server: InferiaServer, code: str
) -> None:
    person, email, _, _ = person_with_totp(server)
    assert login(server, email, PASSWORD, code).status_code == 401
    assert person.post("/auth/totp/disable", {"password": PASSWORD, "code": code}).status_code == (
        403
    )
    _, other_email = Api.login(server).add_member()
    enrolling = Api.login(server, other_email, PASSWORD)
    assert enrolling.post("/auth/totp/setup").status_code == 200
    verify = enrolling.post("/auth/totp/verify", {"code": code})
    assert verify.status_code == 422, verify.text
    assert verify.json()["error"]["param"] == "code"


def test_the_code_that_enabled_2fa_gets_a_clear_refusal_only_with_the_password(
    server: InferiaServer,
) -> None:
    _, email = Api.login(server).add_member()
    person = Api.login(server, email, PASSWORD)
    secret = person.post("/auth/totp/setup").json()["secret"]
    code = totp_code(secret)
    assert person.post("/auth/totp/verify", {"code": code}).status_code == 200

    replayed = login(server, email, PASSWORD, code)
    assert replayed.status_code == 401
    assert "already used" in replayed.json()["error"]["message"]
    # Without the password the answer says nothing about the code.
    guessed = login(server, email, "not the password at all", code)
    assert guessed.status_code == 401
    assert guessed.json()["error"]["message"] == "invalid e-mail, password or code"


def test_an_invitation_cannot_be_accepted_for_a_2fa_account_with_its_password_alone(
    server: InferiaServer,
) -> None:
    admin = Api.login(server)
    person, email, secret, recovery_codes = person_with_totp(server)
    user_id = person.get("/auth/me").json()["user_id"]
    assert admin.request("DELETE", f"/admin/users/{user_id}").status_code == 204
    token = admin.post("/management/members/invitations", {"email": email}).json()["token"]

    def accept(**extra: str) -> httpx.Response:
        return httpx.post(
            f"{server.base_url}/auth/accept-invite",
            json={"token": token, "password": PASSWORD, **extra},
        )

    password_only = accept()
    assert password_only.status_code == 401, password_only.text
    assert password_only.json()["error"]["code"] == "totp_required"
    assert accept(totp=wrong_code(pyotp.TOTP(secret))).status_code == 401
    assert admin.get(f"/admin/users/{user_id}").status_code == 404  # still not a member
    assert accept(totp=recovery_codes[0]).status_code == 200
    assert admin.get(f"/admin/users/{user_id}").status_code == 200
