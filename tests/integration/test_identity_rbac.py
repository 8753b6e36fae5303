"""RBAC and tenancy through the real app: every guarded route refuses a role without
its permission, nobody grants more than they hold, and one organisation's resources
do not exist for another (404, not 403, so existence does not leak)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from inferia.config import ALL_PLANES, replace_section
from inferia.filtration.identity.tables import Organization
from inferia.filtration.roles.catalogue import ALL_PERMISSIONS
from tests.conftest import BackendPair
from tests.identity_support import (
    PASSWORD,
    bearer,
    identity_client,
    identity_settings,
    login,
    unique_email,
)
from tests.unit.test_rbac_routes import guarded_routes

Client = httpx.AsyncClient


@pytest.fixture
async def client(backend_pair: BackendPair) -> AsyncIterator[Client]:
    settings = identity_settings(
        backend_pair.data_dir,
        backend_pair.database_url,
        backend_pair.state_url,
        planes=ALL_PLANES,
    )
    async with identity_client(settings) as test_client:
        yield test_client


async def member_with_role(client: Client, admin: dict[str, str], role: str) -> dict[str, str]:
    email = unique_email(role)
    created = await client.post(
        "/admin/users", headers=admin, json={"email": email, "password": PASSWORD, "role": role}
    )
    assert created.status_code == 201, created.text
    return bearer((await login(client, email, PASSWORD))["access_token"])


def concrete(path: str) -> str:
    """A route path with every parameter filled with an id that exists nowhere."""
    parts = []
    for part in path.split("/"):
        parts.append(str(uuid.uuid4()) if part.startswith("{") else part)
    return "/".join(parts)


async def test_every_guarded_route_refuses_a_role_without_its_permission(client: Client) -> None:
    admin = bearer((await login(client))["access_token"])
    routes = guarded_routes(client._transport.app)  # type: ignore[attr-defined]
    by_permission: dict[str, list[tuple[str, str]]] = {}
    for path, method, permission in routes:
        assert permission is not None
        by_permission.setdefault(permission, []).append((path, method))
    for permission, targets in sorted(by_permission.items()):
        # A custom role with every permission but this one.
        role = f"all-but-{permission.replace(':', '-').replace('_', '-')}"
        others = sorted(set(ALL_PERMISSIONS) - {permission})
        made = await client.post(
            "/admin/roles", headers=admin, json={"name": role, "permissions": others}
        )
        assert made.status_code == 201, made.text
        lacking = await member_with_role(client, admin, role)
        for path, method in targets:
            reply = await client.request(method, concrete(path), headers=lacking, json={})
            assert reply.status_code == 403, (permission, method, path, reply.text)
            assert reply.json()["error"]["type"] == "permission_error"
            # The owner, who holds it, gets past the guard (whatever the handler says).
            allowed = await client.request(method, concrete(path), headers=admin, json={})
            assert allowed.status_code not in (401, 403), (method, path, allowed.text)
    viewer = await member_with_role(client, admin, "viewer")
    for path, method, permission in routes:
        if permission is not None and permission.endswith(":write"):
            reply = await client.request(method, concrete(path), headers=viewer, json={})
            assert reply.status_code == 403, (method, path)


async def test_nobody_grants_more_than_they_hold(client: Client) -> None:
    admin = bearer((await login(client))["access_token"])
    made = await client.post(
        "/admin/roles",
        headers=admin,
        json={"name": "people", "permissions": ["members:read", "members:write", "roles:write"]},
    )
    assert made.status_code == 201
    people = await member_with_role(client, admin, "people")
    # Cannot mint a role with permissions it lacks, nor hand out admin or owner.
    wider = await client.post(
        "/admin/roles", headers=people, json={"name": "wider", "permissions": ["models:write"]}
    )
    assert wider.status_code == 403
    for role in ("admin", "owner"):
        reply = await client.post(
            "/admin/users",
            headers=people,
            json={"email": unique_email(), "password": PASSWORD, "role": role},
        )
        assert reply.status_code == 403, role
    # An admin (not owner) cannot make owners either.
    admin_member = await member_with_role(client, admin, "admin")
    reply = await client.post(
        "/admin/users",
        headers=admin_member,
        json={"email": unique_email(), "password": PASSWORD, "role": "owner"},
    )
    assert reply.status_code == 403
    # Unknown permissions and built-in names are refused; built-in roles are read-only.
    unknown = await client.post(
        "/admin/roles", headers=admin, json={"name": "x", "permissions": ["models:delete"]}
    )
    assert unknown.status_code == 422
    clash = await client.post(
        "/admin/roles", headers=admin, json={"name": "admin", "permissions": []}
    )
    assert clash.status_code == 409
    builtin = (await client.get("/admin/roles/viewer", headers=admin)).json()
    edit = await client.patch(
        f"/admin/roles/{builtin['id']}", headers=admin, json={"permissions": []}
    )
    assert edit.status_code == 403


async def test_the_last_owner_cannot_be_removed_demoted_or_disabled(client: Client) -> None:
    admin = bearer((await login(client))["access_token"])
    me = (await client.get("/auth/me", headers=admin)).json()
    owner_id = me["user_id"]
    for change in ({"role": "admin"}, {"active": False}):
        reply = await client.patch(f"/admin/users/{owner_id}", headers=admin, json=change)
        assert reply.status_code == 409, change
    assert (await client.delete(f"/admin/users/{owner_id}", headers=admin)).status_code == 409
    # With a second owner, the first may step down.
    second = await client.post(
        "/admin/users",
        headers=admin,
        json={"email": unique_email("owner"), "password": PASSWORD, "role": "owner"},
    )
    assert second.status_code == 201
    reply = await client.patch(f"/admin/users/{owner_id}", headers=admin, json={"role": "admin"})
    assert reply.status_code == 200 and reply.json()["role"] == "admin"


async def test_disabled_member_is_refused_at_once(client: Client) -> None:
    admin = bearer((await login(client))["access_token"])
    email = unique_email()
    user = await client.post(
        "/admin/users", headers=admin, json={"email": email, "password": PASSWORD}
    )
    tokens = await login(client, email, PASSWORD)
    headers = bearer(tokens["access_token"])
    assert (await client.get("/management/api-keys", headers=headers)).status_code == 200
    disabled = await client.patch(
        f"/admin/users/{user.json()['user_id']}", headers=admin, json={"active": False}
    )
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    assert (await client.get("/management/api-keys", headers=headers)).status_code == 401
    refresh = await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401
    relog = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert relog.status_code == 403


async def test_cross_organisation_access_is_not_found(client: Client) -> None:
    operator = await login(client)
    # Organisation B, populated by the platform operator acting in it.
    org_b = Organization(slug="org-b", name="B")
    await org_b.save()
    switched = await client.post(
        "/auth/switch-org",
        headers=bearer(operator["access_token"]),
        json={"organization": "org-b"},
    )
    in_b = bearer(switched.json()["access_token"])
    key_b = (await client.post("/management/api-keys", headers=in_b, json={"name": "b"})).json()
    user_b = (
        await client.post(
            "/admin/users", headers=in_b, json={"email": unique_email("b"), "password": PASSWORD}
        )
    ).json()
    role_b = (
        await client.post(
            "/admin/roles", headers=in_b, json={"name": "b-role", "permissions": ["models:read"]}
        )
    ).json()
    invite_b = (
        await client.post(
            "/management/members/invitations", headers=in_b, json={"email": unique_email()}
        )
    ).json()

    # Alice is an admin of organisation A (the default) only.
    operator_a = await login(client)
    alice = await member_with_role(client, bearer(operator_a["access_token"]), "admin")
    key_id, user_id, role_id = key_b["api_key"]["id"], user_b["user_id"], role_b["id"]
    requests: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", f"/management/api-keys/{key_id}", None),
        ("GET", f"/management/api-keys/{key_b['api_key']['prefix']}", None),
        ("PATCH", f"/management/api-keys/{key_id}", {"name": "stolen"}),
        ("DELETE", f"/management/api-keys/{key_id}", None),
        ("GET", f"/admin/users/{user_id}", None),
        ("PATCH", f"/admin/users/{user_id}", {"active": False}),
        ("DELETE", f"/admin/users/{user_id}", None),
        ("GET", f"/admin/roles/{role_id}", None),
        ("PATCH", f"/admin/roles/{role_id}", {"permissions": []}),
        ("DELETE", f"/admin/roles/{role_id}", None),
        ("DELETE", f"/management/members/invitations/{invite_b['invitation']['id']}", None),
        ("POST", "/management/api-keys", {"name": "for b", "user_id": user_id}),
        ("POST", "/auth/switch-org", {"organization": "org-b"}),
    ]
    for method, path, body in requests:
        reply = await client.request(method, path, headers=alice, json=body)
        assert reply.status_code == 404, (method, path, reply.text)
    # Lists show only organisation A.
    listed = {
        "/management/api-keys": "id",
        "/admin/users": "user_id",
        "/admin/roles": "id",
        "/management/members/invitations": "id",
    }
    for path, field in listed.items():
        rows = (await client.get(path, headers=alice)).json()["data"]
        ids = {row[field] for row in rows}
        assert not ids & {key_id, user_id, role_id, invite_b["invitation"]["id"]}, path
    logs = (await client.get("/audit/logs", headers=alice, params={"limit": 200})).json()["data"]
    assert all(row["organization_id"] != str(org_b.id) for row in logs)
    # And nothing changed in B.
    still = await client.get(f"/management/api-keys/{key_id}", headers=in_b)
    assert still.status_code == 200 and still.json()["name"] == "b"
    assert still.json()["revoked_at"] is None


async def test_malformed_bodies_are_4xx_json_never_500(client: Client) -> None:
    admin = bearer((await login(client))["access_token"])
    routes = guarded_routes(client._transport.app)  # type: ignore[attr-defined]
    bodies: list[Any] = [
        b"{not json",
        b"[1, 2, 3]",
        b'"a string"',
        b"null",
        b'{"unknown_field_xyz": 1}',
        b'{"name": 12, "email": [], "password": {}, "permissions": "x", "role": 5}',
        b'{"name": "' + b"x" * 5000 + b'"}',
    ]
    for path, method, _ in routes:
        if method not in ("POST", "PATCH", "PUT"):
            continue
        for body in bodies:
            reply = await client.request(
                method,
                concrete(path),
                headers={**admin, "content-type": "application/json"},
                content=body,
            )
            assert 400 <= reply.status_code < 500, (method, path, body[:40], reply.text)
            assert "error" in reply.json(), (method, path)


async def test_builtin_roles_follow_the_catalogue_not_a_stale_copy(client: Client) -> None:
    from inferia.filtration.roles.tables import Role

    admin = bearer((await login(client))["access_token"])
    viewer = await member_with_role(client, admin, "viewer")
    # A database created by an older release: its built-in rows list fewer permissions.
    await Role.update({Role.permissions: "[]"}).where(
        Role.organization.is_null() & (Role.name == "viewer")
    )
    assert (await client.get("/management/api-keys", headers=viewer)).status_code == 200
    shown = (await client.get("/admin/roles/viewer", headers=admin)).json()
    assert "api_keys:read" in shown["permissions"]


async def test_cross_organisation_access_to_policies_models_and_guardrails(
    backend_pair: BackendPair,
) -> None:
    """The same rule for the resources other modules manage through ``requires``."""
    settings = replace_section(
        identity_settings(
            backend_pair.data_dir,
            backend_pair.database_url,
            backend_pair.state_url,
            planes=ALL_PLANES,
        ),
        "inference",
        allow_private_api_upstreams=True,
    )
    async with identity_client(settings) as client:
        operator = await login(client)
        await Organization(slug="org-b", name="B").save()
        switched = await client.post(
            "/auth/switch-org",
            headers=bearer(operator["access_token"]),
            json={"organization": "org-b"},
        )
        in_b = bearer(switched.json()["access_token"])
        key_b = (await client.post("/management/api-keys", headers=in_b, json={"name": "b"})).json()
        policy = await client.post(
            "/management/policies",
            headers=in_b,
            json={
                "scope": "api_key",
                "subject": key_b["api_key"]["id"],
                "model": "*",
                "limits": {"rpm": 60},
            },
        )
        assert policy.status_code == 201, policy.text
        model = await client.post(
            "/management/models",
            headers=in_b,
            json={
                "name": "model-b",
                "endpoints": [{"base_url": "http://10.0.0.5:8000/v1", "upstream_model": "x"}],
            },
        )
        assert model.status_code == 201, model.text
        guard = await client.put(
            "/management/guardrails/model-b",
            headers=in_b,
            json={"input": [{"scanner": "secrets", "action": "block"}]},
        )
        assert guard.status_code == 200, guard.text

        alice = await member_with_role(
            client, bearer((await login(client))["access_token"]), "admin"
        )
        policy_id, model_id = policy.json()["id"], model.json()["id"]
        for method, path, body in [
            ("GET", f"/management/policies/{policy_id}", None),
            ("PATCH", f"/management/policies/{policy_id}", {"limits": {"rpm": 1}}),
            ("DELETE", f"/management/policies/{policy_id}", None),
            ("GET", f"/management/models/{model_id}", None),
            ("PATCH", f"/management/models/{model_id}", {"routing_strategy": "least_outstanding"}),
            ("DELETE", f"/management/models/{model_id}", None),
            ("GET", "/management/guardrails/model-b", None),
            ("DELETE", "/management/guardrails/model-b", None),
        ]:
            reply = await client.request(method, path, headers=alice, json=body)
            assert reply.status_code == 404, (method, path, reply.text)
        for path in ("/management/policies", "/management/models"):
            listed = (await client.get(path, headers=alice)).json()
            assert policy_id not in str(listed) and model_id not in str(listed), path
        # Nothing changed in B.
        assert (await client.get(f"/management/policies/{policy_id}", headers=in_b)).json()[
            "limits"
        ]["rpm"] == 60
        assert (await client.get(f"/management/models/{model_id}", headers=in_b)).status_code == 200
        assert (await client.get("/management/guardrails/model-b", headers=in_b)).status_code == 200
