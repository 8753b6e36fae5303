"""``GET /internal/templates/{organization_id}``: the template port for split mode."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath

from inferia.contracts.templates import INTERNAL_TEMPLATES_PATH, OrgTemplates, TemplateSource
from inferia.filtration.internal import internal_token_guard


def internal_templates_controller(source: TemplateSource, internal_token: str) -> type[Controller]:
    class InternalTemplatesController(Controller):
        path = INTERNAL_TEMPLATES_PATH
        guards = [internal_token_guard(internal_token)]
        include_in_schema = False

        @get("/{organization_id:str}")
        async def templates(self, organization_id: FromPath[str]) -> OrgTemplates:
            return await source.load(organization_id)

    return InternalTemplatesController
