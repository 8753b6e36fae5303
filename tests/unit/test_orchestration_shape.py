"""The control plane's resources keep the policy plane's shape: the same files in every
folder, and route modules that only map paths to service calls (changes go through
``inferia.orchestration.changes.Changes.apply``)."""

from __future__ import annotations

from pathlib import Path

import pytest

import inferia.orchestration

ORCHESTRATION = Path(inferia.orchestration.__file__).parent
RESOURCES = ("pools", "registry", "deployments", "nodes")
SHAPE = ("routes.py", "service.py", "store.py", "tables.py", "schemas.py")
FORBIDDEN_IN_ROUTES = ("transaction(", ".apply(", "record(", "publish(", "announce(", "Table")


@pytest.mark.parametrize("resource", RESOURCES)
def test_every_resource_has_the_same_files(resource: str) -> None:
    assert [name for name in SHAPE if not (ORCHESTRATION / resource / name).is_file()] == []


@pytest.mark.parametrize("resource", RESOURCES)
def test_route_modules_only_call_services(resource: str) -> None:
    source = (ORCHESTRATION / resource / "routes.py").read_text()
    assert [call for call in FORBIDDEN_IN_ROUTES if call in source] == []
