"""``/management/guardrails`` (RBAC, audited) and ``/internal/guardrails`` (split mode).

- ``GET  /management/guardrails``                 the organisation's policies
- ``GET  /management/guardrails/scanners``        installed scanners and categories
- ``GET  /management/guardrails/effective?model=``the policy a request for a model gets
- ``PUT  /management/guardrails/{model}``         create/replace ("default" = org-wide)
- ``DELETE /management/guardrails/{model}``
- ``GET  /management/guardrails/events``          findings, newest first (never the text)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from inferia.contracts.guardrails import INTERNAL_GUARDRAILS_PATH, OrgGuardrails
from inferia.core.errors import ValidationError
from inferia.db import Database
from inferia.db.errors import wrap_errors
from inferia.filtration.access import Caller, requires
from inferia.filtration.audit import AuditContext, AuditTrail
from inferia.filtration.guardrail_policies.store import (
    DEFAULT_MODEL,
    GuardrailPolicyRecord,
    GuardrailPolicyStore,
    parse_policy,
)
from inferia.filtration.guardrail_policies.tables import GuardrailEvent
from inferia.filtration.internal import internal_token_guard
from inferia.guardrails.policy import GuardrailPolicy


class ScannerInfo(msgspec.Struct, frozen=True):
    name: str


class EventView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    request_id: str
    key_id: str | None
    model: str
    direction: str
    scanner: str
    category: str
    action: str
    location: str
    score: float
    created_at: datetime


def _model_of(path_model: str) -> str:
    # A path parameter, so model names with slashes ("meta-llama/Llama-3.1-8B") work.
    model = path_model.lstrip("/")
    return DEFAULT_MODEL if model in ("default", "*") else model


def guardrails_controller(
    store: GuardrailPolicyStore,
    database: Database,
    audit: AuditTrail,
    platform_default: GuardrailPolicy,
) -> type[Controller]:
    class GuardrailsController(Controller):
        path = "/management/guardrails"
        tags = ["guardrails"]

        @get("/", guards=[requires("guardrails:read")])
        async def list_policies(self, caller: NamedDependency[Caller]) -> dict[str, Any]:
            return {
                "data": await store.list(caller.organization_id),
                "platform_default": platform_default,
            }

        @get("/scanners", guards=[requires("guardrails:read")])
        async def scanners(self) -> dict[str, list[ScannerInfo]]:
            return {"data": [ScannerInfo(name) for name in store.scanner_names]}

        @get("/effective", guards=[requires("guardrails:read")])
        async def effective(
            self, caller: NamedDependency[Caller], model: FromQuery[str] = ""
        ) -> dict[str, Any]:
            policies = await store.load(caller.organization_id)
            if model and model in policies.models:
                return {"source": "model", "policy": policies.models[model]}
            if policies.default is not None:
                return {"source": "organization", "policy": policies.default}
            return {"source": "platform", "policy": platform_default}

        @get("/events", guards=[requires("guardrails:read")])
        async def events(
            self,
            caller: NamedDependency[Caller],
            limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
            before: FromQuery[datetime | None] = None,
            direction: FromQuery[str | None] = None,
            action: FromQuery[str | None] = None,
            scanner: FromQuery[str | None] = None,
        ) -> dict[str, list[EventView]]:
            query = GuardrailEvent.select().where(
                GuardrailEvent.organization == caller.organization_id
            )
            if before is not None:
                query = query.where(GuardrailEvent.created_at < before)
            for column, value in (
                (GuardrailEvent.direction, direction),
                (GuardrailEvent.action, action),
                (GuardrailEvent.scanner, scanner),
            ):
                if value:
                    query = query.where(column == value)
            async with wrap_errors():
                rows = await query.order_by(GuardrailEvent.created_at, ascending=False).limit(limit)
            return {"data": [_event(row) for row in rows]}

        @get("/{model:path}", guards=[requires("guardrails:read")])
        async def get_policy(
            self, caller: NamedDependency[Caller], model: FromPath[str]
        ) -> GuardrailPolicyRecord:
            return await store.get(caller.organization_id, _model_of(model))

        @put("/{model:path}", guards=[requires("guardrails:write")], status_code=200)
        async def put_policy(
            self,
            request: Request[Any, Any, Any],
            caller: NamedDependency[Caller],
            model: FromPath[str],
            data: JSONBody[Any],
        ) -> GuardrailPolicyRecord:
            if not isinstance(data, dict):
                raise ValidationError("the body must be a JSON object (a guardrail policy)")
            policy = parse_policy(data)
            context = AuditContext.of(
                request, actor_id=caller.user_id, organization_id=caller.organization_id
            )
            async with database.transaction():
                record, created = await store.put(caller.organization_id, _model_of(model), policy)
                await audit.record_as(
                    context,
                    "guardrails.create" if created else "guardrails.update",
                    target=record.model,
                    details=_details(record),
                )
            await store.announce_change(caller.organization_id)
            return record

        @delete("/{model:path}", guards=[requires("guardrails:write")], status_code=204)
        async def delete_policy(
            self,
            request: Request[Any, Any, Any],
            caller: NamedDependency[Caller],
            model: FromPath[str],
        ) -> None:
            context = AuditContext.of(
                request, actor_id=caller.user_id, organization_id=caller.organization_id
            )
            async with database.transaction():
                record = await store.delete(caller.organization_id, _model_of(model))
                await audit.record_as(
                    context, "guardrails.delete", target=record.model, details=_details(record)
                )
            await store.announce_change(caller.organization_id)

    return GuardrailsController


def internal_guardrails_controller(
    store: GuardrailPolicyStore, internal_token: str
) -> type[Controller]:
    class InternalGuardrailsController(Controller):
        path = INTERNAL_GUARDRAILS_PATH
        guards = [internal_token_guard(internal_token)]
        include_in_schema = False

        @get("/{organization_id:str}")
        async def policies(self, organization_id: FromPath[str]) -> OrgGuardrails:
            return await store.load(organization_id)

    return InternalGuardrailsController


def _details(record: GuardrailPolicyRecord) -> dict[str, Any]:
    # Scanner names and actions only: deny-list words may themselves be sensitive.
    return {
        "model": record.model,
        "input": [f"{e.scanner}:{e.action}" for e in record.policy.input],
        "output": [f"{e.scanner}:{e.action}" for e in record.policy.output],
    }


def _event(row: dict[str, Any]) -> EventView:
    created: datetime = row["created_at"]
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
        created_at=created if created.tzinfo else created.replace(tzinfo=UTC),
    )
