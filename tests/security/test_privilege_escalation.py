"""Privilege escalation: acting as someone else, or beyond one's role."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import BackendPair
from tests.identity_support import PASSWORD
from tests.processes import InferiaServer
from tests.security.attack_support import Api, server_env, servers

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(module_pair: BackendPair) -> Iterator[InferiaServer]:
    with servers(server_env(module_pair)) as (running,):
        yield running


def test_a_member_cannot_mint_a_key_as_another_member(server: InferiaServer) -> None:
    admin = Api.login(server)
    _, attacker_email = admin.add_member("member")
    victim_id, _ = admin.add_member("member")
    attacker = Api.login(server, attacker_email, PASSWORD)

    minted = attacker.post("/management/api-keys", {"name": "as-victim", "user_id": victim_id})
    assert minted.status_code == 403, minted.text
    assert minted.json()["error"]["param"] == "user_id"
    # Their own key, and a manager's key for the victim, are fine; the record says for whom.
    assert attacker.post("/management/api-keys", {"name": "mine"}).status_code == 201
    for_victim = admin.create_key(name="for-victim", user_id=victim_id)
    assert for_victim["api_key"]["user_id"] == victim_id
    records = admin.get("/audit/logs", action="api_key.create", target=for_victim["api_key"]["id"])
    assert records.json()["data"][0]["details"]["user_id"] == victim_id
