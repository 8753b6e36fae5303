"""API keys on the hot path: a cached key costs no database call, changes reach the
cache at once, expiry needs no message, and pepper / encryption keys rotate."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from inferia.app import build_runtime
from inferia.core.errors import StorageError
from inferia.filtration.api_keys import ApiKey, ApiKeyStore
from inferia.filtration.audit import AuditContext
from inferia.filtration.identity.tables import Organization
from inferia.filtration.plane import FiltrationPlane
from inferia.runtime import Runtime
from tests.conftest import BackendPair
from tests.identity_support import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    bearer,
    identity_client,
    identity_settings,
    login,
    prepare,
    totp_code,
)

CONTEXT = AuditContext.operator()


@dataclass
class Plane:
    runtime: Runtime
    plane: FiltrationPlane
    organization_id: str


@pytest.fixture
async def plane(backend_pair: BackendPair) -> AsyncIterator[Plane]:
    settings = identity_settings(
        backend_pair.data_dir, backend_pair.database_url, backend_pair.state_url
    )
    await prepare(settings)
    runtime = build_runtime(settings)
    filtration = FiltrationPlane(runtime)
    async with runtime.lifespan(None):
        org = await Organization.select(Organization.id).where(Organization.slug == "default")
        yield Plane(runtime, filtration, str(org[0]["id"]))


async def test_a_cached_key_resolves_without_the_database(plane: Plane) -> None:
    created = await plane.plane.api_keys.create(CONTEXT, plane.organization_id, "hot")
    principals = plane.plane.principals
    first = await principals.resolve(created.key)
    assert first is not None and first.key_id == created.record.id

    # Take the table away: any database call now fails loudly.
    await ApiKey.raw("ALTER TABLE api_keys RENAME TO api_keys_away")
    try:
        unknown = created.key[:-4] + "AAAA"
        with pytest.raises(StorageError):
            await principals.resolve(unknown)  # a miss goes to the database...
        started = time.perf_counter()
        for _ in range(10_000):
            cached = await principals.resolve(created.key)  # ...a hit never does
        per_call_us = (time.perf_counter() - started) / 10_000 * 1e6
        assert cached == first
    finally:
        await ApiKey.raw("ALTER TABLE api_keys_away RENAME TO api_keys")
    assert per_call_us < 200, per_call_us  # ~ a few µs: a dict lookup and a hash


async def test_changes_reach_the_cache_at_once_and_expiry_needs_no_message(
    plane: Plane,
) -> None:
    store = plane.plane.api_keys
    principals = plane.plane.principals
    created = await store.create(CONTEXT, plane.organization_id, "changing")
    assert (await principals.resolve(created.key)).allowed_models == ()  # type: ignore[union-attr]
    await store.update(CONTEXT, plane.organization_id, created.record.id, allowed_models=["m1"])
    deadline = time.monotonic() + 1
    while (await principals.resolve(created.key)).allowed_models != ("m1",):  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "the update did not reach the cache within 1 s"
        await asyncio.sleep(0.01)
    await store.revoke(CONTEXT, plane.organization_id, created.record.id)
    deadline = time.monotonic() + 1
    while await principals.resolve(created.key) is not None:
        assert time.monotonic() < deadline, "the revocation did not reach the cache within 1 s"
        await asyncio.sleep(0.01)

    soon = datetime.now(UTC) + timedelta(seconds=1.5)
    expiring = await store.create(CONTEXT, plane.organization_id, "expiring", expires_at=soon)
    assert await principals.resolve(expiring.key) is not None
    await asyncio.sleep(1.6)
    assert await principals.resolve(expiring.key) is None


async def test_pepper_rotation_keeps_old_keys_working_and_upgrades_them(plane: Plane) -> None:
    runtime = plane.runtime
    old = runtime.settings.security.api_key_pepper
    created = await plane.plane.api_keys.create(CONTEXT, plane.organization_id, "old pepper")

    def store(pepper: str, *previous: str) -> ApiKeyStore:
        return ApiKeyStore(pepper, previous_peppers=previous)

    assert await store("new-pepper-value").pepper_status() == {
        "current": 0,
        "previous": 0,
        "unknown": 1,
    }
    assert await store("new-pepper-value").resolve(created.key) is None
    rotated = store("new-pepper-value", old)
    assert await rotated.pepper_status() == {"current": 0, "previous": 1, "unknown": 0}
    principal = await rotated.resolve(created.key)
    assert principal is not None and principal.key_id == created.record.id
    # Upgraded: the old pepper is no longer needed for this key.
    assert await rotated.pepper_status() == {"current": 1, "previous": 0, "unknown": 0}
    assert await store("new-pepper-value").resolve(created.key) is not None
    assert await store("yet-another-pepper").resolve(created.key) is None


async def test_patch_semantics_and_validation(plane: Plane, backend_pair: BackendPair) -> None:
    settings = plane.runtime.settings
    async with identity_client(settings) as client:
        admin = bearer((await login(client))["access_token"])
        expiry = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        made = await client.post(
            "/management/api-keys",
            headers=admin,
            json={"name": "p", "allowed_models": ["a", "b"], "expires_at": expiry},
        )
        assert made.status_code == 201
        key = made.json()["api_key"]
        assert made.json()["key"].startswith("sk-inf-") and "key" not in key
        path = f"/management/api-keys/{key['id']}"
        # Only what is sent changes; null removes the expiry.
        renamed = (await client.patch(path, headers=admin, json={"name": "q"})).json()
        assert renamed["name"] == "q" and renamed["allowed_models"] == ["a", "b"]
        assert renamed["expires_at"] is not None
        cleared = (await client.patch(path, headers=admin, json={"expires_at": None})).json()
        assert cleared["expires_at"] is None and cleared["name"] == "q"
        listed = (await client.get("/management/api-keys", headers=admin)).json()["data"]
        assert all("digest" not in row and "key" not in row for row in listed)
        past = await client.patch(path, headers=admin, json={"expires_at": "2001-01-01T00:00:00Z"})
        assert past.status_code == 422
        blank = await client.post("/management/api-keys", headers=admin, json={"name": "  "})
        assert blank.status_code == 422
        gone = await client.delete(path, headers=admin)
        assert gone.status_code == 200 and gone.json()["revoked_at"] is not None
        after = await client.patch(path, headers=admin, json={"name": "z"})
        assert after.status_code == 422
        hidden = (await client.get("/management/api-keys", headers=admin)).json()["data"]
        assert key["id"] not in {row["id"] for row in hidden}
        shown = await client.get(
            "/management/api-keys", headers=admin, params={"include_revoked": "true"}
        )
        assert key["id"] in {row["id"] for row in shown.json()["data"]}


async def test_encryption_key_rotation_keeps_totp_working(backend_pair: BackendPair) -> None:
    def settings(current: str, *previous: str) -> object:
        return identity_settings(
            backend_pair.data_dir,
            backend_pair.database_url,
            backend_pair.state_url,
            security={"encryption_key": current, "previous_encryption_keys": list(previous)},
            totp_window=3,  # four logins in one test: each needs a fresh time step
        )

    async with identity_client(settings("first-key")) as client:  # type: ignore[arg-type]
        token = (await login(client))["access_token"]
        secret = (await client.post("/auth/totp/setup", headers=bearer(token))).json()["secret"]
        await client.post(
            "/auth/totp/verify", headers=bearer(token), json={"code": totp_code(secret)}
        )

    # A new key with the old one listed as previous: TOTP still works.
    rotated = settings("second-key", "first-key")
    async with identity_client(rotated) as client:  # type: ignore[arg-type]
        await login(client, totp=totp_code(secret, 1))
    from inferia.cli.admin_actions import reencrypt_secrets

    assert await reencrypt_secrets(rotated) == 1  # type: ignore[arg-type]
    assert await reencrypt_secrets(rotated) == 0  # type: ignore[arg-type]
    # Re-sealed: the old key can go.
    async with identity_client(settings("second-key")) as client:  # type: ignore[arg-type]
        await login(client, totp=totp_code(secret, 2))
    # With a key that never sealed it, the server says so; it never lets anyone in.
    async with identity_client(settings("unrelated-key")) as client:  # type: ignore[arg-type]
        reply = await client.post(
            "/auth/login",
            json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "totp": totp_code(secret, 3)},
        )
        assert reply.status_code == 503
