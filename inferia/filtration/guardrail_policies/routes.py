"""``/management/guardrails``: the organisation's guardrail policies (RBAC, audited).

- ``GET  /management/guardrails``                 the organisation's policies
- ``GET  /management/guardrails/scanners``        installed scanners and categories
- ``GET  /management/guardrails/effective?model=``the policy a request for a model gets
- ``PUT  /management/guardrails/{model}``         create/replace ("default" = org-wide)
- ``DELETE /management/guardrails/{model}``
- ``GET  /management/guardrails/events``          findings, newest first (never the text)
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, delete, get, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from inferia.filtration.access import Caller, requires
from inferia.filtration.audit import AuditContext
from inferia.filtration.body_errors import BODY_ERRORS_AS_422
from inferia.filtration.caller_context import caller_context
from inferia.filtration.guardrail_policies.schemas import (
    EffectivePolicy,
    EventFilter,
    EventView,
    GuardrailPolicyRecord,
    PolicyListing,
    ScannerInfo,
)
from inferia.filtration.guardrail_policies.service import GuardrailPolicyService
from inferia.filtration.guardrail_policies.store import DEFAULT_MODEL
from inferia.guardrails.policy import GuardrailPolicy


def _model_of(path_model: str) -> str:
    # A path parameter, so model names with slashes ("meta-llama/Llama-3.1-8B") work.
    model = path_model.lstrip("/")
    return DEFAULT_MODEL if model in ("default", "*") else model


def guardrails_controller(guardrails: GuardrailPolicyService) -> type[Controller]:
    class GuardrailsController(Controller):
        path = "/management/guardrails"
        tags = ["guardrails"]
        dependencies = {"context": Provide(caller_context, sync_to_thread=False)}
        exception_handlers = BODY_ERRORS_AS_422

        @get("/", guards=[requires("guardrails:read")])
        async def list_policies(self, caller: NamedDependency[Caller]) -> PolicyListing:
            return await guardrails.list_for(caller.organization_id)

        @get("/scanners", guards=[requires("guardrails:read")])
        async def scanners(self) -> dict[str, list[ScannerInfo]]:
            return {"data": guardrails.scanners()}

        @get("/effective", guards=[requires("guardrails:read")])
        async def effective(
            self, caller: NamedDependency[Caller], model: FromQuery[str] = ""
        ) -> EffectivePolicy:
            return await guardrails.effective(caller.organization_id, model)

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
            which = EventFilter(
                limit=limit, before=before, direction=direction, action=action, scanner=scanner
            )
            return {"data": await guardrails.events(caller.organization_id, which)}

        @get("/{model:path}", guards=[requires("guardrails:read")])
        async def get_policy(
            self, caller: NamedDependency[Caller], model: FromPath[str]
        ) -> GuardrailPolicyRecord:
            return await guardrails.get(caller.organization_id, _model_of(model))

        @put("/{model:path}", guards=[requires("guardrails:write")], status_code=200)
        async def put_policy(
            self,
            context: NamedDependency[AuditContext],
            caller: NamedDependency[Caller],
            model: FromPath[str],
            data: JSONBody[GuardrailPolicy],
        ) -> GuardrailPolicyRecord:
            return await guardrails.put(context, caller.organization_id, _model_of(model), data)

        @delete("/{model:path}", guards=[requires("guardrails:write")], status_code=204)
        async def delete_policy(
            self,
            context: NamedDependency[AuditContext],
            caller: NamedDependency[Caller],
            model: FromPath[str],
        ) -> None:
            await guardrails.delete(context, caller.organization_id, _model_of(model))

    return GuardrailsController
