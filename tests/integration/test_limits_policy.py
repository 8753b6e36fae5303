"""Policy definitions on both backend pairs: validation, store, and the cached snapshot port."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from inferia.contracts.policies import POLICY_CHANGES_CHANNEL, PolicySnapshots
from inferia.core.errors import ConflictError, ValidationError
from inferia.db import Database
from inferia.filtration.identity.tables import Organization
from inferia.filtration.policies.store import PolicyStore, parse_limits
from inferia.limits import LimitValues
from inferia.state import StateBackend


async def _organization() -> str:
    org_id = uuid.uuid4()
    await Organization(id=org_id, slug=f"o-{org_id.hex[:10]}", name="Org").save()
    return str(org_id)


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        ({"rpm": -1}, "limits.rpm"),
        ({"tpm": "lots"}, "limits.tpm"),
        ({"tpm": 1.5}, "limits.tpm"),
        ({"max_parallel": True}, "limits.max_parallel"),
        ({"per_fortnight": 3}, "limits.per_fortnight"),
        ({"tpm": 1000, "daily_tokens": 10}, "limits.daily_tokens"),
        ({"daily_tokens": 1000, "monthly_tokens": 10}, "limits.monthly_tokens"),
        ({"monthly_budget": -0.5}, "limits.monthly_budget"),
        ({"rpm": 10**12}, "limits.rpm"),
        ([1, 2], "limits"),
    ],
)
def test_bad_limits_are_rejected_naming_the_field(raw: object, param: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_limits(raw)
    assert caught.value.status_code == 422
    assert caught.value.param == param


def test_good_limits_parse() -> None:
    assert parse_limits({"rpm": 10, "daily_budget": 2.5, "tpm": None}) == LimitValues(
        rpm=10, daily_budget=2.5
    )


async def test_store_validates_and_snapshot_follows_changes(
    database: Database, state: StateBackend
) -> None:
    org = await _organization()
    store = PolicyStore(prices={"priced"}, configured_models=["priced", "free"])
    with pytest.raises(ValidationError) as unknown_scope:
        await store.create(org, scope="team", subject=None, model="*", limits=LimitValues(rpm=1))
    assert unknown_scope.value.param == "scope"
    with pytest.raises(ValidationError) as no_price:
        await store.create(
            org,
            scope="organization",
            subject=None,
            model="free",
            limits=LimitValues(daily_budget=1),
        )
    assert no_price.value.param == "limits.daily_budget"
    with pytest.raises(ValidationError) as not_all_priced:
        await store.create(
            org, scope="organization", subject=None, model="*", limits=LimitValues(daily_budget=1)
        )
    assert "free" in not_all_priced.value.message
    with pytest.raises(ValidationError) as no_key:
        await store.create(
            org, scope="api_key", subject=str(uuid.uuid4()), model="*", limits=LimitValues(rpm=1)
        )
    assert no_key.value.param == "subject"

    snapshots = PolicySnapshots(store, state, LimitValues(), ttl_s=60)
    await snapshots.start()
    try:
        assert (await snapshots.get(org)).plan(org, None, "k", "priced") == ()
        created = await store.create(
            org,
            scope="organization",
            subject=None,
            model="priced",
            limits=LimitValues(rpm=5, daily_budget=1.0),
            log_bodies=None,
        )
        with pytest.raises(ConflictError):
            await store.create(
                org, scope="organization", subject=org, model="priced", limits=LimitValues(rpm=1)
            )
        await state.publish(POLICY_CHANGES_CHANNEL, org.encode())
        plan = await _wait_for_plan(snapshots, org, "priced", expected=2)
        assert {c.field.name: c.limit for c in plan} == {"rpm": 5, "daily_budget": 1_000_000}
        await store.update(org, created.id, {"limits": LimitValues(rpm=7)})
        await state.publish(POLICY_CHANGES_CHANNEL, org.encode())
        plan = await _wait_for_plan(snapshots, org, "priced", expected=1)
        assert plan[0].limit == 7
        await store.delete(org, created.id)
        await state.publish(POLICY_CHANGES_CHANNEL, org.encode())
        assert await _wait_for_plan(snapshots, org, "priced", expected=0) == ()
    finally:
        await snapshots.close()


async def _wait_for_plan(snapshots: PolicySnapshots, org: str, model: str, expected: int):  # type: ignore[no-untyped-def]
    for _ in range(100):
        plan = (await snapshots.get(org)).plan(org, None, "k", model)
        if len(plan) == expected:
            return plan
        await asyncio.sleep(0.02)
    raise AssertionError(f"snapshot never showed {expected} limits")


def test_start_up_config_errors_for_limits() -> None:
    from inferia.config import load_settings
    from inferia.core.errors import ConfigError

    models = [{"name": "a", "base_url": "http://127.0.0.1:1/v1"}]
    with pytest.raises(ConfigError, match="no price for model"):
        load_settings(
            None,
            env={},
            overrides={"models": models, "limits": {"key_defaults": {"daily_budget": 5}}},
        )
    with pytest.raises(ConfigError, match=r"limits\.key_defaults\.rpm"):
        load_settings(None, env={}, overrides={"limits": {"key_defaults": {"rpm": -1}}})
    priced = load_settings(
        None,
        env={},
        overrides={
            "models": models,
            "limits": {"key_defaults": {"daily_budget": 5}},
            "pricing": {"a": {"prompt": 1, "completion": 2}},
        },
    )
    assert priced.pricing["a"].completion == 2


async def test_database_refuses_a_second_policy_for_the_same_target(database: Database) -> None:
    from inferia.core.errors import IntegrityViolation
    from inferia.db import wrap_errors
    from inferia.filtration.policies.tables import LimitPolicy

    org = await _organization()
    for attempt in range(2):
        row = LimitPolicy(
            id=uuid.uuid4(), organization=org, scope="organization", subject=org, model="*"
        )
        if attempt == 0:
            await row.save()
            continue
        with pytest.raises(IntegrityViolation):
            async with wrap_errors():
                await row.save()
