"""Tenancy attacks: learning about other organisations' data, and claiming an address
someone else will later own an organisation with."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import BackendPair
from tests.identity_support import ADMIN_EMAIL, PASSWORD, unique_email
from tests.processes import InferiaServer, run_cli
from tests.security.attack_support import Api, server_env, servers

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def env(module_pair: BackendPair) -> dict[str, str]:
    return server_env(module_pair)


@pytest.fixture(scope="module")
def server(env: dict[str, str]) -> Iterator[InferiaServer]:
    with servers(env) as (running,):
        yield running


def organisation_admin(server: InferiaServer) -> Api:
    """An admin of the default organisation who is not a platform operator."""
    _, email = Api.login(server).add_member("admin")
    return Api.login(server, email, PASSWORD)


def account_elsewhere(server: InferiaServer) -> str:
    """The e-mail of an account that is not a member of the default organisation."""
    operator = Api.login(server)
    user_id, email = operator.add_member()
    assert operator.request("DELETE", f"/admin/users/{user_id}").status_code == 204
    return email


def create_org(env: dict[str, str], owner: str) -> tuple[str, str]:
    """``inferia admin create-org``: (slug, what went wrong or '')."""
    slug = f"org-{secrets.token_hex(4)}"
    done = run_cli(["admin", "create-org", "--slug", slug, "--owner", owner], env)
    return slug, "" if done.returncode == 0 else done.stderr


def test_adding_a_user_does_not_say_whether_the_address_has_an_account_elsewhere(
    server: InferiaServer,
) -> None:
    admin = organisation_admin(server)
    answers = []
    for email in (account_elsewhere(server), unique_email()):
        reply = admin.post("/admin/users", {"email": email, "password": PASSWORD})
        answers.append((reply.status_code, reply.json().get("error", {}).get("message")))
    assert answers[0] == answers[1], answers


def test_logging_in_to_an_organisation_does_not_say_whether_it_exists(
    server: InferiaServer, env: dict[str, str]
) -> None:
    other, failed = create_org(env, ADMIN_EMAIL)
    assert not failed, failed
    _, email = Api.login(server).add_member()
    answers = []
    for organisation in (other, f"no-such-{secrets.token_hex(4)}"):
        reply = httpx.post(
            f"{server.base_url}/auth/login",
            json={"email": email, "password": PASSWORD, "organization": organisation},
        )
        answers.append((reply.status_code, reply.json().get("error", {}).get("message")))
    assert answers[0] == answers[1], answers


def test_an_address_claimed_through_an_invitation_cannot_own_a_new_organisation(
    server: InferiaServer, env: dict[str, str]
) -> None:
    """Pre-account takeover: an organisation admin invites the address of someone the
    operator will later make an owner, and accepts the invitation himself."""
    attacker = organisation_admin(server)
    victim = unique_email("ceo")
    token = attacker.post("/management/members/invitations", {"email": victim}).json()["token"]
    accepted = httpx.post(
        f"{server.base_url}/auth/accept-invite", json={"token": token, "password": PASSWORD}
    )
    assert accepted.status_code == 200, accepted.text
    _, failed = create_org(env, victim)
    assert "not verified" in failed, failed
    members = attacker.get("/admin/users").json()["data"]
    assert [m["email_verified"] for m in members if m["email"] == victim] == [False]
    # Once the operator has checked that the person controls the address, it can.
    verified = run_cli(["admin", "verify-email", "--email", victim], env)
    assert verified.returncode == 0, verified.stderr
    _, failed = create_org(env, victim)
    assert not failed, failed
