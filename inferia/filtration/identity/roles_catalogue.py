"""The built-in roles and their permissions.

A placeholder catalogue until the RBAC module owns permissions; each
permission is "<resource>:<read|write>". Built-in roles have no organisation
and are shared by all of them.
"""

from __future__ import annotations

_RESOURCES = (
    "api_keys",
    "models",
    "members",
    "roles",
    "audit",
    "policies",
    "deployments",
    "pools",
    "providers",
    "guardrails",
    "templates",
    "knowledge_bases",
)
# The audit log is written by the platform, never through the API.
_READ_ONLY_RESOURCES = frozenset({"audit"})

READ_PERMISSIONS: tuple[str, ...] = tuple(f"{resource}:read" for resource in _RESOURCES)
ALL_PERMISSIONS: tuple[str, ...] = READ_PERMISSIONS + tuple(
    f"{resource}:write" for resource in _RESOURCES if resource not in _READ_ONLY_RESOURCES
)

OWNER_ROLE = "owner"

BUILTIN_ROLE_PERMISSIONS: dict[str, list[str]] = {
    OWNER_ROLE: sorted(ALL_PERMISSIONS),
    "admin": sorted(ALL_PERMISSIONS),
    "member": sorted((*READ_PERMISSIONS, "api_keys:write")),
    "viewer": sorted(READ_PERMISSIONS),
}
