"""/auth/*: login with TOTP, refresh rotation and reuse detection, logout, switch-org,
throttling and bad tokens, on both backend pairs, through the real app."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from inferia.core.crypto import derive_key
from inferia.filtration.identity.tables import User
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
        backend_pair.data_dir,
        backend_pair.database_url,
        backend_pair.state_url,
        login_max_failures_per_address=8,
    )
    async with identity_client(settings) as test_client:
        yield test_client


async def enrol_totp(client: Client, access_token: str) -> tuple[str, list[str]]:
    setup = await client.post("/auth/totp/setup", headers=bearer(access_token))
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    assert setup.json()["otpauth_uri"].startswith("otpauth://totp/")
    verified = await client.post(
        "/auth/totp/verify", headers=bearer(access_token), json={"code": totp_code(secret)}
    )
    assert verified.status_code == 200, verified.text
    return secret, verified.json()["recovery_codes"]


async def test_login_totp_refresh_logout_flow(client: Client) -> None:
    tokens = await login(client)
    assert tokens["token_type"] == "bearer" and 0 < tokens["expires_in"] <= 900
    me = await client.get("/auth/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200 and me.json()["role"] == "owner"
    assert me.json()["totp_enabled"] is False

    secret, recovery = await enrol_totp(client, tokens["access_token"])
    assert len(recovery) == 10

    # Enrolled: the password alone is not enough any more.
    no_code = await client.post(
        "/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    assert no_code.status_code == 401 and no_code.json()["error"]["code"] == "totp_required"
    wrong = await client.post(
        "/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "totp": "000000"}
    )
    assert wrong.status_code == 401
    # The verify step used the current step's code; the next step's code logs in.
    second = await login(client, totp=totp_code(secret, 1))
    me = await client.get("/auth/me", headers=bearer(second["access_token"]))
    assert me.json()["totp_enabled"] is True

    refreshed = await client.post("/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    rotated = refreshed.json()
    assert rotated["refresh_token"] != second["refresh_token"]
    assert (
        await client.get("/auth/me", headers=bearer(rotated["access_token"]))
    ).status_code == 200

    logout = await client.post("/auth/logout", headers=bearer(rotated["access_token"]))
    assert logout.status_code == 204
    # The whole session is over: its access token and its refresh token.
    assert (
        await client.get("/auth/me", headers=bearer(rotated["access_token"]))
    ).status_code == 401
    again = await client.post("/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert again.status_code == 401
    # Another session (the first login) is unaffected.
    assert (await client.get("/auth/me", headers=bearer(tokens["access_token"]))).status_code == 200


async def test_refresh_token_reuse_revokes_the_family(client: Client) -> None:
    first = await login(client)
    second = (
        await client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()
    third = (
        await client.post("/auth/refresh", json={"refresh_token": second["refresh_token"]})
    ).json()
    assert (await client.get("/auth/me", headers=bearer(third["access_token"]))).status_code == 200

    # An attacker replays the first, already rotated, token.
    reuse = await client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401
    assert "reuse" in reuse.json()["error"]["message"]
    # Every token of the family is now dead, including the newest pair.
    assert (await client.get("/auth/me", headers=bearer(third["access_token"]))).status_code == 401
    latest = await client.post("/auth/refresh", json={"refresh_token": third["refresh_token"]})
    assert latest.status_code == 401


async def test_totp_code_is_accepted_once_and_recovery_codes_once(client: Client) -> None:
    tokens = await login(client)
    secret, recovery = await enrol_totp(client, tokens["access_token"])
    code = totp_code(secret, 1)
    await login(client, totp=code)
    replay = await client.post(
        "/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "totp": code}
    )
    assert replay.status_code == 401
    # The code used at enrolment (an earlier step) is refused too.
    older = await client.post(
        "/auth/login",
        json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "totp": totp_code(secret)},
    )
    assert older.status_code == 401

    await login(client, totp=recovery[0])
    reused = await client.post(
        "/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "totp": recovery[0]}
    )
    assert reused.status_code == 401
    await login(client, totp=recovery[1].lower())  # case and dashes do not matter


async def test_totp_secret_is_encrypted_at_rest_and_disable_needs_password_and_code(
    client: Client,
) -> None:
    tokens = await login(client)
    secret, recovery = await enrol_totp(client, tokens["access_token"])
    row = await User.select().where(User.email == ADMIN_EMAIL).first()
    assert row is not None
    assert secret not in row["totp_secret_encrypted"]
    assert row["totp_secret_encrypted"].startswith("v1.")
    assert all(code not in row["recovery_codes"] for code in recovery)

    headers = bearer(tokens["access_token"])
    bad = await client.post(
        "/auth/totp/disable",
        headers=headers,
        json={"password": "wrong password!", "code": totp_code(secret, 1)},
    )
    assert bad.status_code == 403
    no_code = await client.post(
        "/auth/totp/disable", headers=headers, json={"password": ADMIN_PASSWORD, "code": "123"}
    )
    assert no_code.status_code == 403
    ok = await client.post(
        "/auth/totp/disable",
        headers=headers,
        json={"password": ADMIN_PASSWORD, "code": totp_code(secret, 1)},
    )
    assert ok.status_code == 204, ok.text
    await login(client)  # no code needed any more


def _forge(token: str, **changes: Any) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{body}.{signature}"


def _unsigned(token: str) -> str:
    _, payload, _ = token.split(".")
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').decode().rstrip("=")
    return f"{header}.{payload}."


async def test_bad_tokens_are_401(client: Client, backend_pair: BackendPair) -> None:
    token = (await login(client))["access_token"]
    tampered = _forge(token, org="00000000-0000-0000-0000-000000000000")
    candidates = {
        "alg none": _unsigned(token),
        "tampered": tampered,
        "garbage": "not.a.jwt",
        "empty bearer": "",
        "huge": "a" * 10_000,
    }
    for name, bad in candidates.items():
        for path in ("/auth/me", "/management/api-keys", "/admin/users", "/audit/logs"):
            reply = await client.get(path, headers=bearer(bad))
            assert reply.status_code == 401, (name, path, reply.text)
            assert reply.json()["error"]["type"] == "authentication_error"
    assert (await client.get("/management/api-keys")).status_code == 401

    # Validly signed but expired (past the leeway), or for another audience or issuer.
    settings = identity_settings(
        backend_pair.data_dir, backend_pair.database_url, backend_pair.state_url
    )
    key = OctKey.import_key(derive_key(settings.security.secret_key, b"inferia/jwt/hs256"))
    claims = jwt.decode(token, key).claims
    now = int(time.time())
    for change in (
        {"exp": now - 60, "iat": now - 1000, "nbf": now - 1000},
        {"aud": "someone-else"},
        {"iss": "someone-else"},
        {"typ": "refresh"},
    ):
        signed = jwt.encode({"alg": "HS256"}, {**claims, **change}, key)
        reply = await client.get("/auth/me", headers=bearer(signed))
        assert reply.status_code == 401, change
    # The same claims, freshly signed, are accepted: the checks above are what refused.
    fresh = jwt.encode({"alg": "HS256"}, claims, key)
    assert (await client.get("/auth/me", headers=bearer(fresh))).status_code == 200
    # Another signing algorithm is refused even with the right key material.
    hs512 = jwt.encode({"alg": "HS512"}, claims, key, algorithms=["HS512"])
    assert (await client.get("/auth/me", headers=bearer(hs512))).status_code == 401


async def test_login_throttling_per_account_and_per_address(client: Client) -> None:
    admin = bearer((await login(client))["access_token"])
    email = unique_email("throttled")
    created = await client.post(
        "/admin/users", headers=admin, json={"email": email, "password": PASSWORD}
    )
    assert created.status_code == 201
    for _ in range(5):  # auth.login_max_failures_per_account
        reply = await client.post("/auth/login", json={"email": email, "password": "wrong!" * 3})
        assert reply.status_code == 401
    # Locked: even the right password is refused until the window ends.
    throttled = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert throttled.status_code == 429
    assert throttled.json()["error"]["type"] == "rate_limit_error"
    assert "account" in throttled.json()["error"]["message"]
    assert int(throttled.headers["retry-after"]) >= 1
    # Other accounts from the same address still may try, until the address limit (8).
    for _ in range(3):
        reply = await client.post(
            "/auth/login", json={"email": unique_email(), "password": "whatever at all"}
        )
        assert reply.status_code == 401
    address = await client.post(
        "/auth/login", json={"email": unique_email(), "password": "whatever at all"}
    )
    assert address.status_code == 429 and "address" in address.json()["error"]["message"]


async def test_switch_org_and_membership_checks(client: Client) -> None:
    admin = await login(client)
    headers = bearer(admin["access_token"])
    # A second organisation, with the admin (a platform operator) not a member.
    from inferia.filtration.identity.tables import Organization

    other = Organization(slug="other", name="Other")
    await other.save()
    bob = await client.post(
        "/admin/users", headers=headers, json={"email": "bob@example.com", "password": PASSWORD}
    )
    assert bob.status_code == 201
    bob_tokens = await login(client, "bob@example.com", PASSWORD)
    # Bob is no member of "other": it does not exist as far as he is concerned.
    refused = await client.post(
        "/auth/switch-org",
        headers=bearer(bob_tokens["access_token"]),
        json={"organization": "other"},
    )
    assert refused.status_code == 404
    # The operator may switch; the new token acts in the other organisation.
    switched = await client.post(
        "/auth/switch-org", headers=headers, json={"organization": "other"}
    )
    assert switched.status_code == 200, switched.text
    body = switched.json()
    assert body["organization_id"] == str(other.id)
    me = await client.get("/auth/me", headers=bearer(body["access_token"]))
    assert me.json()["organization_id"] == str(other.id) and me.json()["role"] == "superuser"
    # The refresh token issued before the switch was superseded: using it is reuse.
    stale = await client.post("/auth/refresh", json={"refresh_token": admin["refresh_token"]})
    assert stale.status_code == 401


async def test_password_policy_and_rehash_on_login(backend_pair: BackendPair) -> None:
    settings = identity_settings(
        backend_pair.data_dir, backend_pair.database_url, backend_pair.state_url
    )
    async with identity_client(settings) as client:
        headers = bearer((await login(client))["access_token"])
        short = await client.post(
            "/admin/users", headers=headers, json={"email": "c@example.com", "password": "short"}
        )
        assert short.status_code == 422 and short.json()["error"]["param"] == "password"
        same = await client.post(
            "/admin/users",
            headers=headers,
            json={"email": "longaddress@example.com", "password": "LongAddress@example.com"},
        )
        assert same.status_code == 422
        before = await User.select(User.password_hash).where(User.email == ADMIN_EMAIL).first()
    assert before is not None and "t=1," in before["password_hash"]

    stronger = identity_settings(
        backend_pair.data_dir,
        backend_pair.database_url,
        backend_pair.state_url,
        argon2_time_cost=2,
    )
    async with identity_client(stronger) as client:
        await login(client)
        after = await User.select(User.password_hash).where(User.email == ADMIN_EMAIL).first()
    assert after is not None and "t=2," in after["password_hash"]
    assert after["password_hash"] != before["password_hash"]


async def test_invitations_are_single_use_and_expire(client: Client) -> None:
    headers = bearer((await login(client))["access_token"])
    invite = await client.post(
        "/management/members/invitations",
        headers=headers,
        json={"email": "carol@example.com", "role": "viewer"},
    )
    assert invite.status_code == 201, invite.text
    token = invite.json()["token"]
    accepted = await client.post("/auth/accept-invite", json={"token": token, "password": PASSWORD})
    assert accepted.status_code == 200 and accepted.json()["created_account"] is True
    again = await client.post("/auth/accept-invite", json={"token": token, "password": PASSWORD})
    assert again.status_code == 409
    carol = await login(client, "carol@example.com", PASSWORD)
    me = await client.get("/auth/me", headers=bearer(carol["access_token"]))
    assert me.json()["role"] == "viewer"

    # An expired invitation is refused.
    from datetime import UTC, datetime, timedelta

    from inferia.filtration.invitations.tables import Invitation

    late = await client.post(
        "/management/members/invitations", headers=headers, json={"email": "dan@example.com"}
    )
    await Invitation.update(
        {Invitation.expires_at: datetime.now(UTC) - timedelta(seconds=1)}
    ).where(Invitation.email == "dan@example.com")
    expired = await client.post(
        "/auth/accept-invite", json={"token": late.json()["token"], "password": PASSWORD}
    )
    assert expired.status_code == 409
    unknown = await client.post(
        "/auth/accept-invite", json={"token": "inv_" + "x" * 43, "password": PASSWORD}
    )
    assert unknown.status_code == 404
    # An existing account joins with its own password, not a new one.
    other = await client.post(
        "/management/members/invitations", headers=headers, json={"email": ADMIN_EMAIL}
    )
    assert other.status_code == 409  # already a member


async def test_malformed_auth_bodies_are_4xx_json(client: Client) -> None:
    access = (await login(client))["access_token"]
    bodies = [
        b"{nope",
        b"[]",
        b"null",
        b'{"email": "a@b.c", "password": "x", "extra": 1}',
        b'{"email": 1, "password": 2}',
        b'{"email": "a@b.c", "password": "' + b"p" * 2000 + b'"}',
        b'{"refresh_token": "' + b"r" * 2000 + b'"}',
    ]
    paths = [
        "/auth/login",
        "/auth/refresh",
        "/auth/switch-org",
        "/auth/totp/verify",
        "/auth/totp/disable",
        "/auth/accept-invite",
        "/auth/logout",  # last: a body of null is a valid logout (204)
    ]
    for path in paths:
        for body in bodies:
            if path == "/auth/logout" and body == b"null":
                continue
            reply = await client.post(
                path,
                content=body,
                headers={**bearer(access), "content-type": "application/json"},
            )
            assert 400 <= reply.status_code < 500, (path, body[:30], reply.text)
            assert "error" in reply.json()


async def test_racing_requests_cannot_both_use_one_refresh_token_or_totp_code(
    client: Client,
) -> None:
    first = await login(client)
    replies = await asyncio.gather(
        *(
            client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
            for _ in range(2)
        )
    )
    statuses = sorted(reply.status_code for reply in replies)
    assert statuses == [200, 401], [r.text for r in replies]
    # The race counts as reuse: the winner's tokens die with the family.
    winner = next(reply.json() for reply in replies if reply.status_code == 200)
    assert (await client.get("/auth/me", headers=bearer(winner["access_token"]))).status_code == 401

    tokens = await login(client)
    setup = await client.post("/auth/totp/setup", headers=bearer(tokens["access_token"]))
    secret = setup.json()["secret"]
    await client.post(
        "/auth/totp/verify",
        headers=bearer(tokens["access_token"]),
        json={"code": totp_code(secret)},
    )
    code = totp_code(secret, 1)
    logins = await asyncio.gather(
        *(
            client.post(
                "/auth/login",
                json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "totp": code},
            )
            for _ in range(3)
        )
    )
    assert sorted(reply.status_code for reply in logins) == [200, 401, 401]


def refresh_cookie_of(reply: httpx.Response) -> tuple[str, str]:
    """The refresh cookie a reply sets: its value and its whole Set-Cookie line."""
    lines = [line for line in reply.headers.get_list("set-cookie") if "inferia_refresh=" in line]
    assert len(lines) == 1, reply.headers
    value = lines[0].split(";", 1)[0].split("=", 1)[1].strip('"')
    return value, lines[0]


async def test_refresh_token_in_an_httponly_cookie_with_csrf_checks(client: Client) -> None:
    reply = await client.post(
        "/auth/login",
        json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "refresh_cookie": True},
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["refresh_token"] is None
    token, line = refresh_cookie_of(reply)
    assert token.startswith("rt_")
    attributes = {part.strip().lower() for part in line.split(";")}
    assert {"httponly", "secure", "samesite=strict", "path=/auth/refresh"} <= attributes
    # The cookie is sent by the browser only over https; the test sends it by hand.
    cookie = {"cookie": f"inferia_refresh={token}"}

    # No CSRF header, or a page of another origin: refused, and the token is not spent.
    no_header = await client.post("/auth/refresh", headers=cookie)
    assert no_header.status_code == 403, no_header.text
    foreign = await client.post(
        "/auth/refresh",
        headers={**cookie, "x-inferia-csrf": "1", "origin": "https://evil.example"},
    )
    assert foreign.status_code == 403, foreign.text

    csrf = {**cookie, "x-inferia-csrf": "1", "origin": "http://testserver"}
    refreshed = await client.post("/auth/refresh", headers=csrf)
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["refresh_token"] is None
    rotated, _ = refresh_cookie_of(refreshed)
    assert rotated != token
    access = refreshed.json()["access_token"]
    assert (await client.get("/auth/me", headers=bearer(access))).status_code == 200

    # The old cookie again is reuse: the session ends, the rotated cookie with it.
    reuse = await client.post("/auth/refresh", headers=csrf)
    assert reuse.status_code == 401
    latest = await client.post(
        "/auth/refresh",
        headers={"cookie": f"inferia_refresh={rotated}", "x-inferia-csrf": "1"},
    )
    assert latest.status_code == 401

    # Without a token or cookie there is nothing to refresh; logout clears the cookie.
    assert (await client.post("/auth/refresh")).status_code == 401
    again = await client.post(
        "/auth/login",
        json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "refresh_cookie": True},
    )
    logout = await client.post("/auth/logout", headers=bearer(again.json()["access_token"]))
    assert logout.status_code == 204
    cleared, line = refresh_cookie_of(logout)
    assert cleared == "" and "max-age=0" in line.lower()
