"""The shape-prompt step: a prompt template rendered in front of the request's messages.

The template is the one the request names in the ``inferia`` extension field, else its
model's default (``/management/models`` ``template``). The field is taken out of every
body, template or not, so it never reaches the upstream. A request with neither pays a
dict lookup and an attribute read. Templates come from ``TemplateSnapshots`` (compiled,
cached per organisation, dropped on change events): never a query per request.
"""

from __future__ import annotations

from typing import Protocol

from inferia.core.errors import BadRequestError, InferiaError
from inferia.inference.extension import FIELD, InferiaExtension, take_extension
from inferia.inference.pipeline import RequestContext, Step
from inferia.prompts import CompiledTemplate

_VARIABLES = f"{FIELD}.variables"


class Templates(Protocol):
    async def template_for(
        self, organization_id: str, name: str, version: int | None, where: str
    ) -> CompiledTemplate: ...


class ShapePromptStep(Step):
    name = "shape_prompt"

    def __init__(self, templates: Templates) -> None:
        self._templates = templates

    async def before_upstream(self, ctx: RequestContext) -> None:
        body = ctx.body
        extension = None
        if FIELD in body:
            ctx.extras[FIELD] = body[FIELD]  # for later steps (knowledge-base retrieval)
            extension = take_extension(body)
        # A model's default shapes chat requests only; its embeddings pass untouched.
        default = ctx.default_template if ctx.api == "chat.completions" else None
        if extension is None and default is None:
            return
        await self._apply_template(ctx, extension or InferiaExtension(), default)

    async def _apply_template(
        self, ctx: RequestContext, extension: InferiaExtension, default: str | None
    ) -> None:
        name = extension.template or default
        if name is None:
            if extension.version is not None or extension.variables:
                raise BadRequestError(
                    "'inferia.template' is required with a version or variables.",
                    param=f"{FIELD}.template",
                )
            return
        if ctx.api != "chat.completions":
            raise BadRequestError(
                "Prompt templates apply to /v1/chat/completions only.", param=f"{FIELD}.template"
            )
        template = await self._templates.template_for(
            ctx.principal.organization_id, name, extension.version, FIELD
        )
        try:
            rendered = template.render(extension.variables, _VARIABLES)
        except InferiaError as exc:
            if exc.param is None or not exc.param.startswith(FIELD):
                # A render bound or a failing expression: the template, under its name.
                exc.param = f"{FIELD}.template"
            raise
        ctx.body["messages"] = [*rendered, *ctx.body["messages"]]
