"""The audit trail: every mutating call leaves a record (in the same transaction as
the change), records carry no secrets, and GET /audit/logs filters and pages."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from inferia.filtration.api_keys import ApiKey
from inferia.filtration.audit import AuditLog
from tests.conftest import BackendPair
from tests.identity_support import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    PASSWORD,
    bearer,
    identity_client,
    identity_settings,
    login,
    totp_code,
    unique_email,
)

Client = httpx.AsyncClient


@pytest.fixture
async def client(backend_pair: BackendPair) -> AsyncIterator[Client]:
    settings = identity_settings(
        backend_pair.data_dir, backend_pair.database_url, backend_pair.state_url
    )
    async with identity_client(settings) as test_client:
        yield test_client


class Recorder:
    """Sends requests with their own request id and remembers them, and the secrets seen."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.calls: list[tuple[str, str, str, int]] = []  # (request id, method, path, status)
        self.secrets: set[str] = {ADMIN_PASSWORD, PASSWORD}

    async def __call__(
        self, method: str, path: str, token: str | None = None, body: Any = None
    ) -> httpx.Response:
        request_id = "t-" + secrets.token_hex(8)
        headers = {"x-request-id": request_id}
        if token:
            headers["authorization"] = f"Bearer {token}"
            self.secrets.add(token)
        reply = await self.client.request(method, path, headers=headers, json=body)
        self.calls.append((request_id, method, path, reply.status_code))
        if reply.headers.get("content-type", "").startswith("application/json"):
            self._collect(reply.json())
        return reply

    def _collect(self, value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                self._collect(v, k)
        elif isinstance(value, list):
            for v in value:
                self._collect(v, key)
        elif isinstance(value, str) and key in {
            "key",
            "token",
            "access_token",
            "refresh_token",
            "secret",
            "recovery_codes",
        }:
            self.secrets.add(value)


async def run_every_mutation(call: Recorder) -> None:
    """One successful call of each mutating route of the identity plane."""
    tokens = (
        await call("POST", "/auth/login", body={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    ).json()
    admin = tokens["access_token"]
    created = (await call("POST", "/management/api-keys", admin, {"name": "audited"})).json()
    key_id = created["api_key"]["id"]
    await call("PATCH", f"/management/api-keys/{key_id}", admin, {"allowed_models": ["m"]})
    await call("DELETE", f"/management/api-keys/{key_id}", admin)
    user = (
        await call("POST", "/admin/users", admin, {"email": unique_email(), "password": PASSWORD})
    ).json()
    role = (
        await call("POST", "/admin/roles", admin, {"name": "ops", "permissions": ["models:read"]})
    ).json()
    await call("PATCH", f"/admin/roles/{role['id']}", admin, {"permissions": ["models:write"]})
    await call("PATCH", f"/admin/users/{user['user_id']}", admin, {"role": "ops"})
    await call("PATCH", f"/admin/users/{user['user_id']}", admin, {"role": "member"})
    await call("DELETE", f"/admin/roles/{role['id']}", admin)
    await call("DELETE", f"/admin/users/{user['user_id']}", admin)
    invite = (
        await call("POST", "/management/members/invitations", admin, {"email": unique_email()})
    ).json()
    await call("DELETE", f"/management/members/invitations/{invite['invitation']['id']}", admin)
    second = (
        await call("POST", "/management/members/invitations", admin, {"email": unique_email()})
    ).json()
    await call("POST", "/auth/accept-invite", body={"token": second["token"], "password": PASSWORD})
    setup = (await call("POST", "/auth/totp/setup", admin)).json()
    await call("POST", "/auth/totp/verify", admin, {"code": totp_code(setup["secret"])})
    code = totp_code(setup["secret"], 1)
    call.secrets.add(code)
    relogin = await call(
        "POST",
        "/auth/login",
        body={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "totp": code},
    )
    fresh = relogin.json()
    await call(
        "POST",
        "/auth/totp/disable",
        fresh["access_token"],
        {"password": ADMIN_PASSWORD, "code": totp_code(setup["secret"], -1)},
    )  # an old step: refused (403), and audited as a failure
    refreshed = (
        await call("POST", "/auth/refresh", body={"refresh_token": fresh["refresh_token"]})
    ).json()
    await call("POST", "/auth/switch-org", refreshed["access_token"], {"organization": "default"})
    await call("POST", "/auth/logout", tokens["access_token"])
    await call("POST", "/auth/login", body={"email": ADMIN_EMAIL, "password": "wrong password!!"})


async def test_every_mutating_call_is_audited_without_secrets(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    call = Recorder(client)
    await run_every_mutation(call)
    rows = await AuditLog.select().order_by(AuditLog.id)
    by_request = {row["request_id"]: row for row in rows}
    for request_id, method, path, status in call.calls:
        row = by_request.get(request_id)
        assert row is not None, f"no audit record for {method} {path} ({status})"
        expected = "success" if status < 400 else "failure"
        assert row["outcome"] == expected, (method, path, status, row)
        assert row["client_address"] and row["created_at"]
    actions = {row["action"] for row in rows}
    assert {
        "auth.login",
        "auth.refresh",
        "auth.logout",
        "auth.switch_org",
        "auth.totp.setup",
        "auth.totp.enable",
        "auth.totp.disable",
        "api_key.create",
        "api_key.update",
        "api_key.revoke",
        "user.create",
        "user.update",
        "user.remove",
        "role.create",
        "role.update",
        "role.delete",
        "invitation.create",
        "invitation.revoke",
        "invitation.accept",
    } <= actions
    failed = [row for row in rows if row["action"] == "auth.login" and row["outcome"] == "failure"]
    assert failed and json.loads(failed[-1]["details"]) == {"reason": "bad_password"}

    # No secret, in any column of any record, or in any log line.
    dump = json.dumps(rows, default=str)
    logs = caplog.text
    assert len(call.secrets) > 10
    for secret in call.secrets:
        assert secret not in dump, "a secret reached the audit log"
        assert secret not in logs, "a secret reached the process log"


async def test_audit_record_and_change_commit_together(client: Client) -> None:
    admin = bearer((await login(client))["access_token"])
    before = await ApiKey.count()
    # Make the audit write fail for real: the table is gone.
    await AuditLog.raw("ALTER TABLE audit_logs RENAME TO audit_logs_away")
    try:
        reply = await client.post("/management/api-keys", headers=admin, json={"name": "x"})
        assert reply.status_code == 503, reply.text
        assert reply.json()["error"]["code"] == "storage_unavailable"
    finally:
        await AuditLog.raw("ALTER TABLE audit_logs_away RENAME TO audit_logs")
    # The key was not created: the change rolled back with its failed record.
    assert await ApiKey.count() == before
    assert (
        await client.post("/management/api-keys", headers=admin, json={"name": "y"})
    ).status_code == 201
    assert await ApiKey.count() == before + 1


async def test_audit_logs_filter_and_paginate(client: Client) -> None:
    tokens = await login(client)
    admin = bearer(tokens["access_token"])
    me = (await client.get("/auth/me", headers=admin)).json()
    key_ids = []
    for i in range(5):
        created = await client.post("/management/api-keys", headers=admin, json={"name": f"k{i}"})
        key_ids.append(created.json()["api_key"]["id"])

    pages: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"action": "api_key.create", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/audit/logs", headers=admin, params=params)).json()
        pages.extend(page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [row["target"] for row in pages] == list(reversed(key_ids))  # newest first
    assert all(row["actor_id"] == me["user_id"] for row in pages)

    prefix = (await client.get("/audit/logs", headers=admin, params={"action": "api_key.*"})).json()
    assert len(prefix["data"]) == 5
    target = (await client.get("/audit/logs", headers=admin, params={"target": key_ids[2]})).json()
    assert [row["target"] for row in target["data"]] == [key_ids[2]]
    by_actor = (
        await client.get("/audit/logs", headers=admin, params={"actor": me["user_id"]})
    ).json()
    assert len(by_actor["data"]) >= 6  # the login and the five keys
    future = (
        await client.get("/audit/logs", headers=admin, params={"since": "2100-01-01T00:00:00Z"})
    ).json()
    assert future["data"] == []
    past = (
        await client.get("/audit/logs", headers=admin, params={"until": "2000-01-01T00:00:00Z"})
    ).json()
    assert past["data"] == []
    for bad in ({"limit": 0}, {"limit": 100000}, {"cursor": "abc"}, {"since": "yesterday"}):
        reply = await client.get("/audit/logs", headers=admin, params=bad)
        assert 400 <= reply.status_code < 500, bad
