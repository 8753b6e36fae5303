"""ModelStore (the /management/models store and the in-process model-definition port)
on both backend pairs: sealed keys, org scoping, uniqueness and change announcements."""

from __future__ import annotations

import asyncio
import uuid

import msgspec
import pytest

from inferia.contracts import MODEL_CHANGES_CHANNEL
from inferia.core.crypto import SecretBox
from inferia.core.errors import ConflictError, IntegrityViolation, NotFoundError, ValidationError
from inferia.db import Database
from inferia.db.errors import wrap_errors
from inferia.filtration.audit import AuditContext, AuditTrail
from inferia.filtration.changes import Changes
from inferia.filtration.identity.tables import Organization
from inferia.filtration.models.schemas import EndpointInput, ModelCreate, ModelUpdate
from inferia.filtration.models.service import ModelService
from inferia.filtration.models.store import ModelStore
from inferia.filtration.models.tables import ModelDeployment
from inferia.state import StateBackend

KEY = "sk-upstream-secret"


async def _organization() -> str:
    org_id = uuid.uuid4()
    await Organization(id=org_id, slug=f"o-{org_id.hex[:10]}", name="Org").save()
    return str(org_id)


def create(name: str, *urls: str, api_key: str | None = KEY) -> ModelCreate:
    return ModelCreate(
        name=name,
        endpoints=[EndpointInput(base_url=u, api_key=api_key, weight=2) for u in urls],
    )


async def test_models_are_sealed_scoped_and_announced(
    database: Database, state: StateBackend
) -> None:
    store = ModelStore(SecretBox("k" * 32), allow_private=True)
    models = ModelService(store, Changes(database, AuditTrail(), state))
    org, other = await _organization(), await _organization()
    heard: list[bytes] = []
    subscription = await state.subscribe(MODEL_CHANGES_CHANNEL, heard.append)
    try:
        context = AuditContext.operator(org)
        record = await models.create(context, org, create("llama", "http://127.0.0.1:9000/v1"))
        assert record.endpoints[0].has_api_key and record.endpoints[0].weight == 2
        # Sealed at rest: the stored row holds no plaintext key.
        row = await ModelDeployment.select().where(ModelDeployment.id == record.id).first()
        assert row is not None and KEY not in row["endpoints"]
        # The port opens it for the inference plane.
        (definition,) = [d for d in await store.load() if d.id == record.id]
        assert definition.endpoints[0].api_key == KEY
        assert definition.organization_id == org
        # The store's allow_private travels with the definitions (split mode: one setting).
        assert definition.private_upstreams_allowed
        # Other organisations see nothing of it.
        assert await store.list_for(other) == []
        with pytest.raises(NotFoundError):
            await store.get(other, record.id)
        with pytest.raises(ConflictError):
            await store.create(org, create("llama", "http://127.0.0.1:9001/v1"))
        await store.create(other, create("llama", "http://127.0.0.1:9001/v1"))
        # An update without api_key keeps the stored key of the same base_url.
        updated = await store.update(
            org,
            record.id,
            msgspec.convert(
                {"endpoints": [{"base_url": "http://127.0.0.1:9000/v1", "weight": 5}]}, ModelUpdate
            ),
        )
        assert updated.endpoints[0].has_api_key and updated.endpoints[0].weight == 5
        (reloaded,) = [d for d in await store.load() if d.id == record.id]
        assert reloaded.endpoints[0].api_key == KEY
        await store.delete(org, record.id)
        assert await store.list_for(org) == []
        for _ in range(50):
            if heard:
                break
            await asyncio.sleep(0.02)
        assert heard == [record.id.encode()]
    finally:
        await subscription.close()


async def test_the_ssrf_policy_applies_to_api_urls(database: Database, state: StateBackend) -> None:
    strict = ModelStore(SecretBox("k" * 32), allow_private=False)
    org = await _organization()
    for url in ("http://127.0.0.1:9000/v1", "http://10.0.0.1/v1", "http://169.254.169.254/"):
        with pytest.raises(ValidationError) as refused:
            await strict.create(org, create("m", "http://93.184.215.14/v1", url))
        assert refused.value.param == "endpoints[1].base_url"


async def test_the_unique_index_holds_without_the_store(database: Database) -> None:
    org = await _organization()
    await ModelDeployment(id=uuid.uuid4(), organization=org, name="dup").save()
    with pytest.raises(IntegrityViolation):
        async with wrap_errors():
            await ModelDeployment(id=uuid.uuid4(), organization=org, name="dup").save()
