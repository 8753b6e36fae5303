"""GuardrailPolicyStore: an organisation's guardrail policies (default and per model).

Policies are validated by compiling them with the engine before they are stored, so a
policy that names a missing scanner or an invalid regex is a 422 at write time, never a
failure on the request path. Changes go through ``GuardrailPolicyService``, which
audits them and announces them so inference processes drop their snapshot at once.
Findings (``guardrail_events``) are read back here too.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec

from inferia.contracts.guardrails import OrgGuardrails
from inferia.core.errors import ConfigError, NotFoundError, ValidationError
from inferia.db.errors import wrap_errors
from inferia.filtration.guardrail_policies.schemas import (
    EventFilter,
    EventView,
    GuardrailPolicyRecord,
)
from inferia.filtration.guardrail_policies.tables import GuardrailEvent, GuardrailPolicyRow
from inferia.guardrails.engine import GuardrailEngine
from inferia.guardrails.policy import GuardrailPolicy

DEFAULT_MODEL = "*"


class GuardrailPolicyStore:
    def __init__(self, engine: GuardrailEngine) -> None:
        self._engine = engine

    @property
    def engine(self) -> GuardrailEngine:
        """Shared with the inference plane in one process: scanners are built once."""
        return self._engine

    @property
    def scanner_names(self) -> list[str]:
        return self._engine.scanner_names

    def validate(self, policy: GuardrailPolicy) -> None:
        try:
            self._engine.validate(policy)
        except ConfigError as exc:  # a plugin that cannot load here (missing checkpoint...)
            raise ValidationError(exc.message) from None

    async def list(self, organization_id: str) -> list[GuardrailPolicyRecord]:
        async with wrap_errors():
            rows = (
                await GuardrailPolicyRow.select()
                .where(GuardrailPolicyRow.organization == organization_id)
                .order_by(GuardrailPolicyRow.model)
            )
        return [_record(row) for row in rows]

    async def get(self, organization_id: str, model: str) -> GuardrailPolicyRecord:
        row = await self._row(organization_id, model)
        if row is None:
            raise NotFoundError(f"no guardrail policy for model '{model}'")
        return _record(row)

    async def put(
        self, organization_id: str, model: str, policy: GuardrailPolicy
    ) -> tuple[GuardrailPolicyRecord, bool]:
        """Create or replace; True when it was created. Run inside a transaction; a
        concurrent first write of the same model loses on the unique index (409)."""
        model = _model(model)
        self.validate(policy)
        encoded = msgspec.json.encode(policy).decode()
        now = datetime.now(UTC)
        existing = await self._row(organization_id, model)
        async with wrap_errors():
            if existing is None:
                row = GuardrailPolicyRow(
                    id=uuid.uuid4(),
                    organization=organization_id,
                    model=model,
                    policy=encoded,
                    created_at=now,
                    updated_at=now,
                )
                await row.save()
                return _record(row.to_dict()), True
            await GuardrailPolicyRow.update(
                {GuardrailPolicyRow.policy: encoded, GuardrailPolicyRow.updated_at: now}
            ).where(GuardrailPolicyRow.id == existing["id"])
        return await self.get(organization_id, model), False

    async def delete(self, organization_id: str, model: str) -> GuardrailPolicyRecord:
        record = await self.get(organization_id, _model(model))
        async with wrap_errors():
            await GuardrailPolicyRow.delete().where(GuardrailPolicyRow.id == record.id)
        return record

    async def load(self, organization_id: str) -> OrgGuardrails:
        """The in-process ``GuardrailPolicySource``: one query."""
        records = await self.list(organization_id)
        default = next((r.policy for r in records if r.model == DEFAULT_MODEL), None)
        models = {r.model: r.policy for r in records if r.model != DEFAULT_MODEL}
        return OrgGuardrails(default=default, models=models)

    async def _row(self, organization_id: str, model: str) -> dict[str, Any] | None:
        async with wrap_errors():
            row: dict[str, Any] | None = (
                await GuardrailPolicyRow.select()
                .where(
                    (GuardrailPolicyRow.organization == organization_id)
                    & (GuardrailPolicyRow.model == _model(model))
                )
                .first()
            )
        return row


async def recent_events(organization_id: str, which: EventFilter) -> list[EventView]:
    """The organisation's findings, newest first (never the matched text)."""
    query = GuardrailEvent.select().where(GuardrailEvent.organization == organization_id)
    if which.before is not None:
        query = query.where(GuardrailEvent.created_at < which.before)
    for column, value in (
        (GuardrailEvent.direction, which.direction),
        (GuardrailEvent.action, which.action),
        (GuardrailEvent.scanner, which.scanner),
    ):
        if value:
            query = query.where(column == value)
    async with wrap_errors():
        rows = await query.order_by(GuardrailEvent.created_at, ascending=False).limit(which.limit)
    return [_event(row) for row in rows]


def _model(model: str) -> str:
    model = model.strip()
    if not model or len(model) > 200:
        raise ValidationError("model must be 1-200 characters ('*' for the default)", param="model")
    return model


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _record(row: dict[str, Any]) -> GuardrailPolicyRecord:
    return GuardrailPolicyRecord(
        id=str(row["id"]),
        organization_id=str(row["organization"]),
        model=row["model"],
        policy=msgspec.json.decode(row["policy"], type=GuardrailPolicy),
        created_at=_aware(row["created_at"]),
        updated_at=_aware(row["updated_at"]),
    )


def _event(row: dict[str, Any]) -> EventView:
    return EventView(
        id=str(row["id"]),
        request_id=row["request_id"],
        key_id=row["key_id"],
        model=row["model"],
        direction=row["direction"],
        scanner=row["scanner"],
        category=row["category"],
        action=row["action"],
        location=row["location"],
        score=float(row["score"]),
        created_at=_aware(row["created_at"]),
    )
