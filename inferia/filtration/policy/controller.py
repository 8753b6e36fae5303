"""``/management/policies``: limit policies of the caller's organisation (RBAC, audited)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from inferia.core.errors import ValidationError
from inferia.db import Database
from inferia.filtration.access import Caller, requires
from inferia.filtration.audit import AuditContext, AuditTrail
from inferia.filtration.policy.schema import PolicyRecord
from inferia.filtration.policy.store import PolicyStore, parse_limits

_CREATE_FIELDS = frozenset({"scope", "subject", "model", "limits", "log_bodies"})
_UPDATE_FIELDS = frozenset({"limits", "log_bodies"})


def _fields(data: object, allowed: frozenset[str]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationError("the body must be a JSON object")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError(f"unknown field '{unknown[0]}'", param=unknown[0])
    return data


def _optional_str(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise ValidationError(f"'{name}' must be a string", param=name)
    return value


def _optional_bool(data: dict[str, Any], name: str) -> bool | None:
    value = data.get(name)
    if value is not None and not isinstance(value, bool):
        raise ValidationError(f"'{name}' must be true, false or null", param=name)
    return value


def policy_controller(
    store: PolicyStore, database: Database, audit: AuditTrail
) -> type[Controller]:
    class PolicyController(Controller):
        path = "/management/policies"
        tags = ["policies"]

        @get("/", guards=[requires("policies:read")])
        async def list_policies(
            self, caller: NamedDependency[Caller]
        ) -> dict[str, list[PolicyRecord]]:
            return {"data": await store.list(caller.organization_id)}

        @get("/{policy_id:str}", guards=[requires("policies:read")])
        async def get_policy(
            self, caller: NamedDependency[Caller], policy_id: FromPath[str]
        ) -> PolicyRecord:
            return await store.get(caller.organization_id, policy_id)

        @post("/", guards=[requires("policies:write")], status_code=201)
        async def create_policy(
            self,
            request: Request[Any, Any, Any],
            caller: NamedDependency[Caller],
            data: JSONBody[Any],
        ) -> PolicyRecord:
            body = _fields(data, _CREATE_FIELDS)
            scope = _optional_str(body, "scope")
            if scope is None:
                raise ValidationError("'scope' is required", param="scope")
            limits = parse_limits(body.get("limits", {}))
            context = AuditContext.of(
                request, actor_id=caller.user_id, organization_id=caller.organization_id
            )
            async with database.transaction():
                record = await store.create(
                    caller.organization_id,
                    scope=scope,
                    subject=_optional_str(body, "subject"),
                    model=_optional_str(body, "model") or "*",
                    limits=limits,
                    log_bodies=_optional_bool(body, "log_bodies"),
                )
                await audit.record_as(
                    context, "policy.create", target=record.id, details=_details(record)
                )
            await store.announce_change(caller.organization_id)
            return record

        @patch("/{policy_id:str}", guards=[requires("policies:write")])
        async def update_policy(
            self,
            request: Request[Any, Any, Any],
            caller: NamedDependency[Caller],
            policy_id: FromPath[str],
            data: JSONBody[Any],
        ) -> PolicyRecord:
            body = _fields(data, _UPDATE_FIELDS)
            changes: dict[str, Any] = {}
            if "limits" in body:
                changes["limits"] = parse_limits(body["limits"])
            if "log_bodies" in body:
                changes["log_bodies"] = _optional_bool(body, "log_bodies")
            context = AuditContext.of(
                request, actor_id=caller.user_id, organization_id=caller.organization_id
            )
            async with database.transaction():
                record = await store.update(caller.organization_id, policy_id, changes)
                await audit.record_as(
                    context, "policy.update", target=record.id, details=_details(record)
                )
            await store.announce_change(caller.organization_id)
            return record

        @delete("/{policy_id:str}", guards=[requires("policies:write")], status_code=204)
        async def delete_policy(
            self,
            request: Request[Any, Any, Any],
            caller: NamedDependency[Caller],
            policy_id: FromPath[str],
        ) -> None:
            context = AuditContext.of(
                request, actor_id=caller.user_id, organization_id=caller.organization_id
            )
            async with database.transaction():
                record = await store.delete(caller.organization_id, policy_id)
                await audit.record_as(
                    context, "policy.delete", target=record.id, details=_details(record)
                )
            await store.announce_change(caller.organization_id)

    return PolicyController


def _details(record: PolicyRecord) -> dict[str, Any]:
    return {
        "scope": record.scope,
        "subject": record.subject,
        "model": record.model,
        "limits": msgspec.to_builtins(record.limits),
    }
