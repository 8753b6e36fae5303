"""Prompt templates on both backend pairs (SQLite + memory, PostgreSQL + Redis): versions,
activation, organisation scoping, the unique indexes, and the cached snapshot port
following change events."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import msgspec
import pytest

from inferia.config import TemplateSettings
from inferia.contracts.templates import TEMPLATE_CHANGES_CHANNEL, TemplateSnapshots
from inferia.core.errors import ConflictError, IntegrityViolation, NotFoundError
from inferia.db import Database
from inferia.db.errors import wrap_errors
from inferia.filtration.identity.tables import Organization
from inferia.filtration.models.tables import ModelDeployment
from inferia.filtration.templates.store import TemplateStore
from inferia.filtration.templates.tables import PromptTemplateVersion
from inferia.prompts import TemplateBody, TemplateRefused
from inferia.state import StateBackend


async def _organization() -> str:
    org_id = uuid.uuid4()
    await Organization(id=org_id, slug=f"o-{org_id.hex[:10]}", name="Org").save()
    return str(org_id)


def _body(content: str, variables: list[dict[str, Any]] | None = None) -> TemplateBody:
    return msgspec.convert(
        {"messages": [{"role": "system", "content": content}], "variables": variables or []},
        TemplateBody,
    )


NAME = [{"name": "name", "type": "string", "required": True}]


async def test_versions_activation_and_scoping(database: Database, state: StateBackend) -> None:
    org, other = await _organization(), await _organization()
    store = TemplateStore()
    created = await store.create(org, "support", _body("v1 {{ name }}", NAME))
    assert (created.version, created.active_version) == (1, 1)
    second = await store.add_version(org, created.id, _body("v2 {{ name }}", NAME))
    assert (second.version, second.active_version) == (2, 1)  # a new version is not active yet
    assert (await store.activate(org, created.id, 2)).active_version == 2
    assert (await store.activate(org, created.id, 1)).active_version == 1  # rollback
    with pytest.raises(NotFoundError):
        await store.activate(org, created.id, 3)
    record = await store.get(org, created.id)
    assert [v.version for v in record.versions or []] == [1, 2]
    assert record.versions is not None and record.versions[1].messages[0].content == "v2 {{ name }}"

    # Another organisation sees nothing, by id or by name.
    for call in (
        store.get(other, created.id),
        store.activate(other, created.id, 1),
        store.add_version(other, created.id, _body("x")),
        store.delete(other, created.id),
    ):
        with pytest.raises(NotFoundError):
            await call
    assert (await store.load(other)).templates == {}
    # The same name in another organisation is fine; twice in one is a 409.
    await store.create(other, "support", _body("theirs"))
    with pytest.raises(ConflictError):
        await store.create(org, "support", _body("again"))
    # A template that does not compile is never stored.
    with pytest.raises(TemplateRefused):
        await store.add_version(org, created.id, _body("{{ undeclared }}"))
    assert (await store.get(org, created.id)).version == 2

    loaded = (await store.load(org)).templates["support"]
    assert loaded.active_version == 1 and sorted(loaded.versions) == [1, 2]
    await store.delete(org, created.id)
    assert (
        await PromptTemplateVersion.count().where(PromptTemplateVersion.template == created.id) == 0
    )  # versions go with their template


async def test_a_version_number_is_taken_once(database: Database, state: StateBackend) -> None:
    org = await _organization()
    created = await TemplateStore().create(org, "t", _body("one"))
    # What two concurrent adds of version 2 would both try: the unique index refuses one.
    await PromptTemplateVersion(template=created.id, version=2, body="{}").save()
    with pytest.raises(IntegrityViolation):
        async with wrap_errors():
            await PromptTemplateVersion(template=created.id, version=2, body="{}").save()


async def test_snapshots_follow_change_events(database: Database, state: StateBackend) -> None:
    org = await _organization()
    store = TemplateStore()
    snapshots = TemplateSnapshots(store, state, TemplateSettings(cache_ttl_s=3600))
    await snapshots.start()
    try:
        created = await store.create(org, "greet", _body("Hello {{ name }}", NAME))
        template = await snapshots.template_for(org, "greet", None, "inferia")
        assert template.render({"name": "Ada"})[0]["content"] == "Hello Ada"
        await store.add_version(org, created.id, _body("Hi {{ name }}", NAME))
        await store.activate(org, created.id, 2)
        await state.publish(TEMPLATE_CHANGES_CHANNEL, org.encode())

        async def active() -> str:
            rendered = (await snapshots.template_for(org, "greet", None, "inferia")).render(
                {"name": "Ada"}
            )
            return rendered[0]["content"]

        for _ in range(100):
            if await active() == "Hi Ada":
                break
            await asyncio.sleep(0.02)
        assert await active() == "Hi Ada"
        pinned = await snapshots.template_for(org, "greet", 1, "inferia")
        assert pinned.render({"name": "Ada"})[0]["content"] == "Hello Ada"
        with pytest.raises(NotFoundError) as missing:
            await snapshots.template_for(org, "greet", 9, "inferia")
        assert missing.value.param == "inferia.version"
        with pytest.raises(NotFoundError) as unknown:
            await snapshots.template_for(await _organization(), "greet", None, "inferia")
        assert unknown.value.param == "inferia.template"
    finally:
        await snapshots.close()


async def test_a_default_template_cannot_be_deleted(
    database: Database, state: StateBackend
) -> None:
    org = await _organization()
    store = TemplateStore()
    created = await store.create(org, "house", _body("house rules"))
    await ModelDeployment(organization=org, name="m1", template="house").save()
    with pytest.raises(ConflictError, match="m1"):
        await store.delete(org, created.id)
    await ModelDeployment.update({ModelDeployment.template: None}).where(
        ModelDeployment.organization == org
    )
    await store.delete(org, created.id)
    assert (await store.load(org)).templates == {}
