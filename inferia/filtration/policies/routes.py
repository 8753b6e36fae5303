"""``/management/policies``: limit policies of the caller's organisation (RBAC, audited)."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from inferia.filtration.access import Caller, requires
from inferia.filtration.audit import AuditContext
from inferia.filtration.body_errors import BODY_ERRORS_AS_422
from inferia.filtration.caller_context import caller_context
from inferia.filtration.policies.schemas import PolicyCreate, PolicyRecord, PolicyUpdate
from inferia.filtration.policies.service import PolicyService


def policies_controller(policies: PolicyService) -> type[Controller]:
    class PoliciesController(Controller):
        path = "/management/policies"
        tags = ["policies"]
        dependencies = {"context": Provide(caller_context, sync_to_thread=False)}
        exception_handlers = BODY_ERRORS_AS_422

        @get("/", guards=[requires("policies:read")])
        async def list_policies(
            self, caller: NamedDependency[Caller]
        ) -> dict[str, list[PolicyRecord]]:
            return {"data": await policies.list_for(caller.organization_id)}

        @get("/{policy_id:str}", guards=[requires("policies:read")])
        async def get_policy(
            self, caller: NamedDependency[Caller], policy_id: FromPath[str]
        ) -> PolicyRecord:
            return await policies.get(caller.organization_id, policy_id)

        @post("/", guards=[requires("policies:write")], status_code=201)
        async def create_policy(
            self,
            context: NamedDependency[AuditContext],
            caller: NamedDependency[Caller],
            data: JSONBody[PolicyCreate],
        ) -> PolicyRecord:
            return await policies.create(context, caller.organization_id, data)

        @patch("/{policy_id:str}", guards=[requires("policies:write")])
        async def update_policy(
            self,
            context: NamedDependency[AuditContext],
            caller: NamedDependency[Caller],
            policy_id: FromPath[str],
            data: JSONBody[PolicyUpdate],
        ) -> PolicyRecord:
            return await policies.update(context, caller.organization_id, policy_id, data)

        @delete("/{policy_id:str}", guards=[requires("policies:write")], status_code=204)
        async def delete_policy(
            self,
            context: NamedDependency[AuditContext],
            caller: NamedDependency[Caller],
            policy_id: FromPath[str],
        ) -> None:
            await policies.delete(context, caller.organization_id, policy_id)

    return PoliciesController
