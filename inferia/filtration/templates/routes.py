"""``/management/templates``: the organisation's prompt templates (RBAC, audited).

- ``GET    /management/templates``                  the templates (no versions)
- ``POST   /management/templates``                  create (version 1, active)
- ``GET    /management/templates/{id}``             with every version
- ``DELETE /management/templates/{id}``
- ``POST   /management/templates/{id}/versions``    add version n+1 (not yet active)
- ``POST   /management/templates/{id}/activate``    ``{"version"}``: activate or roll back
- ``POST   /management/templates/{id}/render``      ``{"variables", "version"?}``: preview
"""

from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from inferia.filtration.access import Caller, requires
from inferia.filtration.audit import AuditContext
from inferia.filtration.body_errors import BODY_ERRORS_AS_422
from inferia.filtration.caller_context import caller_context
from inferia.filtration.templates.schemas import (
    ActivateRequest,
    RenderRequest,
    RenderResult,
    TemplateCreate,
    TemplateRecord,
    VersionCreate,
)
from inferia.filtration.templates.service import TemplateService


def templates_controller(templates: TemplateService) -> type[Controller]:
    class TemplatesController(Controller):
        path = "/management/templates"
        tags = ["templates"]
        dependencies = {"context": Provide(caller_context, sync_to_thread=False)}
        exception_handlers = BODY_ERRORS_AS_422

        @get("/", guards=[requires("templates:read")])
        async def list_templates(
            self, caller: NamedDependency[Caller]
        ) -> dict[str, list[TemplateRecord]]:
            return {"data": await templates.list_for(caller.organization_id)}

        @get("/{template_id:str}", guards=[requires("templates:read")])
        async def get_template(
            self, caller: NamedDependency[Caller], template_id: FromPath[str]
        ) -> TemplateRecord:
            return await templates.get(caller.organization_id, template_id)

        @post("/", guards=[requires("templates:write")], status_code=201)
        async def create_template(
            self,
            context: NamedDependency[AuditContext],
            caller: NamedDependency[Caller],
            data: JSONBody[TemplateCreate],
        ) -> TemplateRecord:
            return await templates.create(context, caller.organization_id, data)

        @post("/{template_id:str}/versions", guards=[requires("templates:write")], status_code=201)
        async def add_version(
            self,
            context: NamedDependency[AuditContext],
            caller: NamedDependency[Caller],
            template_id: FromPath[str],
            data: JSONBody[VersionCreate],
        ) -> TemplateRecord:
            return await templates.add_version(context, caller.organization_id, template_id, data)

        @post("/{template_id:str}/activate", guards=[requires("templates:write")], status_code=200)
        async def activate(
            self,
            context: NamedDependency[AuditContext],
            caller: NamedDependency[Caller],
            template_id: FromPath[str],
            data: JSONBody[ActivateRequest],
        ) -> TemplateRecord:
            return await templates.activate(
                context, caller.organization_id, template_id, data.version
            )

        @post("/{template_id:str}/render", guards=[requires("templates:read")], status_code=200)
        async def render(
            self,
            caller: NamedDependency[Caller],
            template_id: FromPath[str],
            data: JSONBody[RenderRequest],
        ) -> RenderResult:
            return await templates.render(caller.organization_id, template_id, data)

        @delete("/{template_id:str}", guards=[requires("templates:write")], status_code=204)
        async def delete_template(
            self,
            context: NamedDependency[AuditContext],
            caller: NamedDependency[Caller],
            template_id: FromPath[str],
        ) -> None:
            await templates.delete(context, caller.organization_id, template_id)

    return TemplatesController
