"""The permission catalogue and the built-in roles.

Each permission is "<resource>:<read|write>"; every management route names one with
``requires(...)`` (inferia/filtration/access.py), which refuses names not listed here.
Built-in roles have no organisation and are shared by all of them; organisations add
custom roles with any subset of ``ALL_PERMISSIONS``.
"""

from __future__ import annotations

import json

_RESOURCES = (
    "api_keys",
    "models",
    "members",
    "roles",
    "audit",
    "policies",
    "usage",
    "deployments",
    "pools",
    "providers",
    "guardrails",
    "templates",
    "knowledge_bases",
)
# The audit log and usage records are written by the platform, never through the API.
_READ_ONLY_RESOURCES = frozenset({"audit", "usage"})

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

# The role name shown for a platform operator acting in an organisation they do not belong to.
SUPERUSER_ROLE = "superuser"
BUILTIN_ROLES = frozenset(BUILTIN_ROLE_PERMISSIONS)


def role_permissions(name: str, builtin: bool, stored: str) -> frozenset[str]:
    """A role's permissions. Built-in roles follow this catalogue (so a permission added
    in a new release reaches existing databases); custom roles are what was stored."""
    if builtin and name in BUILTIN_ROLE_PERMISSIONS:
        return frozenset(BUILTIN_ROLE_PERMISSIONS[name])
    return frozenset(json.loads(stored))
