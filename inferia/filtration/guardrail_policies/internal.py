"""``GET /internal/guardrails/{organization_id}``: the guardrail port for split mode."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath

from inferia.contracts.guardrails import (
    INTERNAL_GUARDRAILS_PATH,
    GuardrailPolicySource,
    OrgGuardrails,
)
from inferia.filtration.internal import internal_token_guard


def internal_guardrails_controller(
    source: GuardrailPolicySource, internal_token: str
) -> type[Controller]:
    class InternalGuardrailsController(Controller):
        path = INTERNAL_GUARDRAILS_PATH
        guards = [internal_token_guard(internal_token)]
        include_in_schema = False

        @get("/{organization_id:str}")
        async def policies(self, organization_id: FromPath[str]) -> OrgGuardrails:
            return await source.load(organization_id)

    return InternalGuardrailsController
