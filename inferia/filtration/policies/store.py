"""PolicyStore: create, change and delete limit policies; build an organisation's snapshot.

Changes go through ``PolicyService``, which audits them and announces them on
``POLICY_CHANGES_CHANNEL`` (payload: the organisation id).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any, get_args

import msgspec

from inferia.core.errors import ConflictError, NotFoundError, ValidationError
from inferia.db.errors import wrap_errors
from inferia.filtration.api_keys.tables import ApiKey
from inferia.filtration.members.tables import Membership
from inferia.filtration.policies.schemas import PolicyRecord
from inferia.filtration.policies.tables import LimitPolicy
from inferia.limits import (
    ALL_MODELS,
    BUDGET_FIELDS,
    LIMIT_FIELDS,
    MAX_LIMIT,
    LimitValues,
    OrgPolicies,
    PolicyRule,
    Scope,
)

# A day's window must not hold less than a minute's, nor a month's less than a day's.
_NESTED_WINDOWS = (("tpm", "daily_tokens"), ("daily_tokens", "monthly_tokens"))


def parse_limits(raw: object, param: str = "limits") -> LimitValues:
    """Validate a limits object from the API; errors name the offending field."""
    if not isinstance(raw, Mapping):
        raise ValidationError(f"'{param}' must be an object of limits", param=param)
    known = {f.name: f for f in LIMIT_FIELDS}
    values: dict[str, int | float | None] = {}
    for name, value in raw.items():
        field = known.get(str(name))
        if field is None:
            raise ValidationError(
                f"unknown limit '{name}'; known: {', '.join(known)}", param=f"{param}.{name}"
            )
        if value is None:
            values[field.name] = None
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError(f"'{name}' must be a number", param=f"{param}.{name}")
        if field.measure != "cost" and not float(value).is_integer():
            raise ValidationError(f"'{name}' must be a whole number", param=f"{param}.{name}")
        if value < 0:
            raise ValidationError(f"'{name}' must be >= 0", param=f"{param}.{name}")
        ceiling = MAX_LIMIT / 1_000_000 if field.measure == "cost" else MAX_LIMIT
        if value > ceiling:
            raise ValidationError(f"'{name}' must be <= {ceiling:g}", param=f"{param}.{name}")
        values[field.name] = float(value) if field.measure == "cost" else int(value)
    limits = LimitValues(**values)  # type: ignore[arg-type]
    for shorter, longer in _NESTED_WINDOWS:
        small, large = limits.value(shorter), limits.value(longer)
        if small and large and large < small:
            raise ValidationError(
                f"overlapping windows: '{longer}' ({large}) is smaller than '{shorter}' ({small})",
                param=f"{param}.{longer}",
            )
    return limits


class PolicyStore:
    def __init__(self, prices: Collection[str], configured_models: Collection[str]) -> None:
        # Model names with a price ("*" prices every model) and the inferia.toml models.
        self._prices = frozenset(prices)
        self._configured_models = frozenset(configured_models)

    async def create(
        self,
        organization_id: str,
        *,
        scope: str,
        subject: str | None,
        model: str,
        limits: LimitValues,
        log_bodies: bool | None = None,
    ) -> PolicyRecord:
        checked_scope = _scope(scope)
        subject = subject or (organization_id if checked_scope == "organization" else "")
        model = model.strip() or ALL_MODELS
        self.check_prices(model, limits)
        await _check_subject(organization_id, checked_scope, subject)
        if log_bodies is not None and (checked_scope != "organization" or model != ALL_MODELS):
            raise ValidationError(
                "log_bodies is a setting of the organisation scope for all models",
                param="log_bodies",
            )
        now = datetime.now(UTC)
        row = LimitPolicy(
            id=uuid.uuid4(),
            organization=organization_id,
            scope=checked_scope,
            subject=subject,
            model=model,
            limits=msgspec.json.encode(limits).decode(),
            log_bodies=log_bodies,
            created_at=now,
            updated_at=now,
        )
        async with wrap_errors():
            exists = await LimitPolicy.exists().where(
                (LimitPolicy.organization == organization_id)
                & (LimitPolicy.scope == checked_scope)
                & (LimitPolicy.subject == subject)
                & (LimitPolicy.model == model)
            )
            if exists:
                raise ConflictError(
                    f"a policy for {checked_scope} '{subject}' and model '{model}' exists; "
                    "change it instead"
                )
            await row.save()
        return _record(row.to_dict())

    async def list(self, organization_id: str) -> list[PolicyRecord]:
        async with wrap_errors():
            rows = await (
                LimitPolicy.select()
                .where(LimitPolicy.organization == organization_id)
                .order_by(LimitPolicy.created_at)
            )
        return [_record(row) for row in rows]

    async def get(self, organization_id: str, policy_id: str) -> PolicyRecord:
        if not _is_uuid(policy_id):
            raise NotFoundError("policy not found")
        async with wrap_errors():
            row = (
                await LimitPolicy.select()
                .where(
                    (LimitPolicy.id == policy_id) & (LimitPolicy.organization == organization_id)
                )
                .first()
            )
        if row is None:
            raise NotFoundError("policy not found")
        return _record(row)

    async def update(
        self, organization_id: str, policy_id: str, changes: Mapping[str, Any]
    ) -> PolicyRecord:
        current = await self.get(organization_id, policy_id)
        values: dict[Any, Any] = {LimitPolicy.updated_at: datetime.now(UTC)}
        if "limits" in changes:
            limits = changes["limits"]
            assert isinstance(limits, LimitValues)
            self.check_prices(current.model, limits)
            values[LimitPolicy.limits] = msgspec.json.encode(limits).decode()
        if "log_bodies" in changes:
            if current.scope != "organization" or current.model != ALL_MODELS:
                raise ValidationError(
                    "log_bodies is a setting of the organisation scope for all models",
                    param="log_bodies",
                )
            values[LimitPolicy.log_bodies] = changes["log_bodies"]
        async with wrap_errors():
            await LimitPolicy.update(values).where(LimitPolicy.id == policy_id)
        return await self.get(organization_id, policy_id)

    async def delete(self, organization_id: str, policy_id: str) -> PolicyRecord:
        record = await self.get(organization_id, policy_id)
        async with wrap_errors():
            await LimitPolicy.delete().where(LimitPolicy.id == policy_id)
        return record

    async def load(self, organization_id: str) -> OrgPolicies:
        """The in-process policy port: the organisation's snapshot, one query."""
        if not _is_uuid(organization_id):
            return OrgPolicies(organization_id=organization_id)
        async with wrap_errors():
            rows = await LimitPolicy.select().where(LimitPolicy.organization == organization_id)
        rules = tuple(
            PolicyRule(
                scope=row["scope"],
                subject=row["subject"],
                model=row["model"],
                limits=msgspec.json.decode(row["limits"], type=LimitValues),
            )
            for row in rows
        )
        log_bodies = next(
            (
                bool(row["log_bodies"])
                for row in rows
                if row["scope"] == "organization"
                and row["model"] == ALL_MODELS
                and row["log_bodies"] is not None
            ),
            None,
        )
        return OrgPolicies(organization_id=organization_id, rules=rules, log_bodies=log_bodies)

    def check_prices(self, model: str, limits: LimitValues) -> None:
        """A cost budget needs a price for every model it covers."""
        if not limits.has_budget() or ALL_MODELS in self._prices:
            return
        missing = {model} if model != ALL_MODELS else (self._configured_models or {ALL_MODELS})
        missing = set(missing) - self._prices
        if missing:
            field = next(name for name in sorted(BUDGET_FIELDS) if limits.value(name))
            raise ValidationError(
                f"a cost budget needs prices: no [pricing] entry for model(s) "
                f"{', '.join(sorted(missing))} in inferia.toml",
                param=f"limits.{field}",
            )


def _scope(scope: str) -> Scope:
    if scope not in get_args(Scope):
        raise ValidationError(
            f"unknown scope '{scope}'; use one of {', '.join(get_args(Scope))}", param="scope"
        )
    checked: Scope = scope  # type: ignore[assignment]
    return checked


async def _check_subject(organization_id: str, scope: Scope, subject: str) -> None:
    if scope == "organization":
        if subject != organization_id:
            raise ValidationError(
                "an organisation policy applies to the caller's organisation", param="subject"
            )
        return
    if not subject or not _is_uuid(subject):
        raise ValidationError(
            f"subject must be the id of a {scope.replace('_', ' ')}", param="subject"
        )
    async with wrap_errors():
        if scope == "api_key":
            found = await ApiKey.exists().where(
                (ApiKey.id == subject) & (ApiKey.organization == organization_id)
            )
        else:
            found = await Membership.exists().where(
                (Membership.user == subject) & (Membership.organization == organization_id)
            )
    if not found:
        raise ValidationError(
            f"no {scope.replace('_', ' ')} '{subject}' in this organisation", param="subject"
        )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _record(row: Mapping[str, Any]) -> PolicyRecord:
    return PolicyRecord(
        id=str(row["id"]),
        organization_id=str(row["organization"]),
        scope=row["scope"],
        subject=row["subject"],
        model=row["model"],
        limits=msgspec.json.decode(row["limits"], type=LimitValues)
        if isinstance(row["limits"], str)
        else row["limits"],
        log_bodies=row["log_bodies"],
        created_at=_aware(row["created_at"]),
        updated_at=_aware(row["updated_at"]),
    )
