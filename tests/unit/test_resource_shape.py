"""The policy plane's resources keep one shape (docs/architecture.md, "Access control
and audit"): the same files in every folder, and route modules that only map paths to
service calls, so no change can skip ``Changes.apply`` (commit + audit + announce)."""

from __future__ import annotations

from pathlib import Path

import pytest

import inferia.filtration

FILTRATION = Path(inferia.filtration.__file__).parent
# Resources served over HTTP with the whole shape.
RESOURCES = (
    "identity",
    "members",
    "roles",
    "invitations",
    "api_keys",
    "audit",
    "models",
    "policies",
    "guardrail_policies",
    "templates",
    "usage",
    "knowledge_bases",
)
SHAPE = ("routes.py", "service.py", "store.py", "tables.py", "schemas.py")
# What only a service (through Changes) or a store may do.
FORBIDDEN_IN_ROUTES = ("transaction(", ".apply(", "record(", "record_as(", "publish(", "announce(")


@pytest.mark.parametrize("resource", RESOURCES)
def test_every_resource_has_the_same_files(resource: str) -> None:
    missing = [name for name in SHAPE if not (FILTRATION / resource / name).is_file()]
    assert missing == []


@pytest.mark.parametrize("resource", [*RESOURCES, "twofactor"])
def test_route_modules_only_call_services(resource: str) -> None:
    source = (FILTRATION / resource / "routes.py").read_text()
    found = [call for call in FORBIDDEN_IN_ROUTES if call in source]
    assert found == [], f"{resource}/routes.py: {found}"
