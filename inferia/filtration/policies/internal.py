"""``GET /internal/policies/{organization_id}``: the policy port for split mode."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath

from inferia.contracts.policies import INTERNAL_POLICIES_PATH, PolicySource
from inferia.filtration.internal import internal_token_guard
from inferia.limits import OrgPolicies


def internal_policies_controller(source: PolicySource, internal_token: str) -> type[Controller]:
    class InternalPoliciesController(Controller):
        path = INTERNAL_POLICIES_PATH
        guards = [internal_token_guard(internal_token)]
        include_in_schema = False

        @get("/{organization_id:str}")
        async def policies(self, organization_id: FromPath[str]) -> OrgPolicies:
            return await source.load(organization_id)

    return InternalPoliciesController
