"""The whole route table: every /management, /admin and /audit route declares the
permission it needs, and every permission it names is in the catalogue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from inferia.app import build_app
from inferia.config import ALL_PLANES
from inferia.filtration.access import PermissionGuard, requires
from inferia.filtration.roles.catalogue import (
    ALL_PERMISSIONS,
    BUILTIN_ROLE_PERMISSIONS,
    READ_PERMISSIONS,
)
from tests.identity_support import identity_settings

GUARDED_PREFIXES = ("/management", "/admin", "/audit")


def permission_of(guard: Any) -> str | None:
    # Litestar may wrap a guard; the wrapped callable is kept on `.ref.value`.
    target = getattr(getattr(guard, "ref", None), "value", guard)
    return target.permission if isinstance(target, PermissionGuard) else None


def guarded_routes(app: Litestar) -> list[tuple[str, str, str | None]]:
    """(path, method, permission or None) for every route under the guarded prefixes."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(GUARDED_PREFIXES):
            continue
        for handler in route.route_handlers:
            permissions = [permission_of(g) for g in handler.resolve_guards()]
            permission = next((p for p in permissions if p), None)
            for method in handler.http_methods - {"OPTIONS", "HEAD"}:
                found.append((route.path, method, permission))
    return found


async def test_every_management_admin_and_audit_route_requires_a_permission(
    tmp_path: Path,
) -> None:
    # Every plane, so routes added by any engineer are walked. Built inside a running
    # event loop: some planes create loop-bound objects.
    settings = msgspec.structs.replace(identity_settings(tmp_path), planes=list(ALL_PLANES))
    routes = guarded_routes(build_app(settings))
    paths = {path for path, _, _ in routes}
    # The walk sees the routes it must (so it cannot pass by seeing nothing).
    assert {"/management/api-keys", "/admin/users", "/admin/roles", "/audit/logs"} <= paths
    unguarded = [(path, method) for path, method, permission in routes if permission is None]
    assert unguarded == [], f"routes without requires(...): {unguarded}"
    unknown = {p for _, _, p in routes if p not in ALL_PERMISSIONS}
    assert not unknown


def test_requires_refuses_a_permission_missing_from_the_catalogue() -> None:
    with pytest.raises(ValueError, match="unknown permission"):
        requires("models:delete")
    assert requires("models:write").permission == "models:write"


def test_catalogue_covers_every_managed_resource_and_builtin_roles_nest() -> None:
    for resource in (
        "api_keys",
        "deployments",
        "models",
        "pools",
        "providers",
        "guardrails",
        "policies",
        "templates",
        "knowledge_bases",
        "members",
        "roles",
    ):
        assert f"{resource}:read" in ALL_PERMISSIONS and f"{resource}:write" in ALL_PERMISSIONS
    assert "audit:read" in ALL_PERMISSIONS and "audit:write" not in ALL_PERMISSIONS
    owner = set(BUILTIN_ROLE_PERMISSIONS["owner"])
    viewer = set(BUILTIN_ROLE_PERMISSIONS["viewer"])
    member = set(BUILTIN_ROLE_PERMISSIONS["member"])
    assert viewer == set(READ_PERMISSIONS) and viewer < member < owner
    assert owner == set(ALL_PERMISSIONS)
