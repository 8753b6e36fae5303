"""Guardrail definitions on both backend pairs: the policy store, the cached snapshot
port following change events, and findings drained from the stream into the table."""

from __future__ import annotations

import asyncio
import uuid

import msgspec
import pytest

from inferia.config import GuardrailSettings
from inferia.contracts.guardrails import GUARDRAIL_CHANGES_CHANNEL, GuardrailSnapshots
from inferia.core.errors import NotFoundError, ValidationError
from inferia.db import Database
from inferia.filtration.guardrail_policies.consumer import GuardrailEventConsumer
from inferia.filtration.guardrail_policies.store import GuardrailPolicyStore
from inferia.filtration.guardrail_policies.tables import GuardrailEvent
from inferia.filtration.identity.tables import Organization
from inferia.guardrails import GuardrailPolicy, policy_from_builtins
from inferia.guardrails.events import GuardrailEventSink
from inferia.guardrails.setup import build_engine
from inferia.state import StateBackend
from tests.state_support import pending_count


def parse_policy(raw: object) -> GuardrailPolicy:
    """A policy from plain data; a bad one is a ValidationError naming the field (the
    check the API's typed body makes)."""
    try:
        return msgspec.convert(raw, GuardrailPolicy)
    except msgspec.ValidationError as exc:
        message = str(exc)
        param = message.split("`$.", 1)[1].rstrip("`") if "`$." in message else None
        raise ValidationError(f"invalid guardrail policy: {message}", param=param) from None


PLATFORM = policy_from_builtins({"input": [{"scanner": "pii", "action": "flag"}]})


async def _organization() -> str:
    org_id = uuid.uuid4()
    await Organization(id=org_id, slug=f"o-{org_id.hex[:10]}", name="Org").save()
    return str(org_id)


def _store(state: StateBackend) -> GuardrailPolicyStore:
    return GuardrailPolicyStore(build_engine(GuardrailSettings()))


async def test_policies_are_validated_before_they_are_stored(
    database: Database, state: StateBackend
) -> None:
    org = await _organization()
    store = _store(state)
    with pytest.raises(ValidationError, match="unknown guardrail scanner"):
        await store.put(org, "*", parse_policy({"input": [{"scanner": "nope"}]}))
    with pytest.raises(ValidationError, match="invalid deny-list pattern"):
        await store.put(
            org, "*", parse_policy({"input": [{"scanner": "denylist", "patterns": ["("]}]})
        )
    with pytest.raises(ValidationError) as bad_action:
        parse_policy({"input": [{"scanner": "pii", "action": "explode"}]})
    assert bad_action.value.param == "input[0].action"
    assert await store.list(org) == []


async def test_put_replaces_and_delete_removes(database: Database, state: StateBackend) -> None:
    org = await _organization()
    store = _store(state)
    first, created = await store.put(org, "*", parse_policy({"input": [{"scanner": "pii"}]}))
    assert created
    second, created = await store.put(
        org, "*", parse_policy({"input": [{"scanner": "pii", "action": "block"}]})
    )
    assert not created and second.id == first.id
    assert second.policy.input[0].action == "block"
    await store.put(org, "gpt-x", parse_policy({"output": [{"scanner": "secrets"}]}))
    loaded = await store.load(org)
    assert loaded.default is not None and set(loaded.models) == {"gpt-x"}
    await store.delete(org, "gpt-x")
    with pytest.raises(NotFoundError):
        await store.get(org, "gpt-x")


async def test_snapshots_follow_change_events(database: Database, state: StateBackend) -> None:
    org = await _organization()
    store = _store(state)
    snapshots = GuardrailSnapshots(store, store.engine, PLATFORM, state, ttl_s=3600)
    await snapshots.start()
    try:
        assert (await snapshots.policy_for(org, "m")).policy == PLATFORM
        blocking = parse_policy({"input": [{"scanner": "secrets", "action": "block"}]})
        await store.put(org, "m", blocking)
        await state.publish(GUARDRAIL_CHANGES_CHANNEL, org.encode())
        for _ in range(100):
            if (await snapshots.policy_for(org, "m")).policy == blocking:
                break
            await asyncio.sleep(0.02)
        assert (await snapshots.policy_for(org, "m")).policy == blocking
        # Another model of the organisation still gets the platform default.
        assert (await snapshots.policy_for(org, "other")).policy == PLATFORM
    finally:
        await snapshots.close()


async def test_findings_reach_the_events_table_without_the_text(
    database: Database, state: StateBackend
) -> None:
    org = await _organization()
    # A stream of its own: a server elsewhere on the same Redis may run a consumer.
    stream = f"test:guardrail-events:{uuid.uuid4().hex}"
    sink = GuardrailEventSink(state, stream=stream)
    consumer = GuardrailEventConsumer(state, database, name="test", stream=stream)
    await state.stream_ensure_group(stream, "guardrail-event-writers")
    sink.add(
        organization_id=org,
        request_id="req-1",
        key_id=None,
        model="m",
        findings=[
            {"scanner": "pii", "category": "email", "action": "redact", "direction": "input",
             "where": "messages[0].content", "score": 1.0},
        ],
    )  # fmt: skip
    await sink.flush()
    assert await consumer.run_once() == 1
    rows = await GuardrailEvent.select().where(GuardrailEvent.organization == org)
    assert [(r["scanner"], r["category"], r["action"], r["location"]) for r in rows] == [
        ("pii", "email", "redact", "messages[0].content")
    ]
    # Redelivery writes nothing twice.
    assert await consumer.run_once() == 0


async def test_an_event_of_a_deleted_organisation_does_not_block_the_stream(
    database: Database, state: StateBackend
) -> None:
    org = await _organization()
    stream = f"test:guardrail-events:{uuid.uuid4().hex}"
    sink = GuardrailEventSink(state, stream=stream)
    consumer = GuardrailEventConsumer(state, database, name="test", stream=stream)
    await state.stream_ensure_group(stream, "guardrail-event-writers")
    finding = {
        "scanner": "secrets",
        "category": "jwt",
        "action": "block",
        "direction": "output",
        "where": "choices[0].message.content",
        "score": 1.0,
    }
    for organization_id in (str(uuid.uuid4()), org):
        sink.add(
            organization_id=organization_id,
            request_id="r",
            key_id="k",
            model="m",
            findings=[finding],
        )
    await sink.flush()
    assert await consumer.run_once() == 2
    rows = await GuardrailEvent.select().where(GuardrailEvent.organization == org)
    assert len(rows) == 1
    assert await pending_count(state, stream, "guardrail-event-writers") == 0


async def test_one_policy_per_organisation_and_model_is_enforced_by_the_database(
    database: Database, state: StateBackend
) -> None:
    from inferia.core.errors import IntegrityViolation
    from inferia.db.errors import wrap_errors
    from inferia.filtration.guardrail_policies.tables import GuardrailPolicyRow

    org = await _organization()
    await _store(state).put(org, "m", parse_policy({"input": [{"scanner": "pii"}]}))
    with pytest.raises(IntegrityViolation):
        async with wrap_errors():
            await GuardrailPolicyRow(id=uuid.uuid4(), organization=org, model="m").save()
