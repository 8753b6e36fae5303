"""API keys on the control plane's REST routes: a key acts with its owner's role (read
now, not when the key was made), a revoked or unknown key is a 401, and ``/management``
still takes access tokens only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import BackendPair
from tests.identity_support import all_planes_settings, bearer, identity_client, login
from tests.integration.test_identity_rbac import member_with_role

Client = httpx.AsyncClient


@pytest.fixture
async def client(backend_pair: BackendPair) -> AsyncIterator[Client]:
    async with identity_client(all_planes_settings(backend_pair)) as test_client:
        yield test_client


async def _key(client: Client, owner: dict[str, str]) -> tuple[str, dict[str, str]]:
    made = await client.post("/management/api-keys/", headers=owner, json={"name": "ci"})
    assert made.status_code == 201, made.text
    return made.json()["api_key"]["id"], {"authorization": f"Bearer {made.json()['key']}"}


async def test_an_api_key_acts_with_its_owners_role(client: Client) -> None:
    admin = bearer((await login(client))["access_token"])
    key_id, admin_key = await _key(client, admin)
    assert (await client.get("/deployment/deployments", headers=admin_key)).status_code == 200
    pool = {"name": "by-key", "provider": "kubernetes", "config": {"namespace": "ml"}}
    created = await client.post("/deployment/createpool", headers=admin_key, json=pool)
    assert created.status_code == 201, created.text

    # A member reads the control plane with its key, and may not write.
    member = await member_with_role(client, admin, "member")
    _, member_key = await _key(client, member)
    assert (await client.get("/deployment/listModels", headers=member_key)).status_code == 200
    refused = await client.post(
        "/deployment/createpool", headers=member_key, json={**pool, "name": "nope"}
    )
    assert refused.status_code == 403, refused.text
    assert "lacks the permission 'pools:write'" in refused.text

    # /management keeps taking access tokens only.
    assert (await client.get("/management/api-keys/", headers=admin_key)).status_code == 401

    # Revoked, or never issued: 401.
    revoked = await client.delete(f"/management/api-keys/{key_id}", headers=admin)
    assert revoked.status_code == 200, revoked.text
    for _ in range(40):  # the principal cache hears of it through the change channel
        reply = await client.get("/deployment/deployments", headers=admin_key)
        if reply.status_code == 401:
            break
        await asyncio.sleep(0.05)
    assert reply.status_code == 401, reply.text
    unknown = {"authorization": "Bearer sk-inf-abcdefgh-" + "x" * 40}
    assert (await client.get("/deployment/deployments", headers=unknown)).status_code == 401
