"""Prompt templates as a library both planes use: the template's shape, the variable
checks and the sandboxed renderer. Plane-neutral (msgspec and jinja2 only).

The policy plane validates a template with it when it is written and renders previews;
the inference plane renders it on the request path (``inferia.inference.shaping``).
"""

from inferia.prompts.definition import (
    ROLES,
    MessageTemplate,
    TemplateBody,
    VariableSpec,
    VariableType,
)
from inferia.prompts.renderer import CompiledTemplate, compile_template
from inferia.prompts.sandbox import RenderRefused, TemplateRefused

__all__ = [
    "ROLES",
    "CompiledTemplate",
    "MessageTemplate",
    "RenderRefused",
    "TemplateBody",
    "TemplateRefused",
    "VariableSpec",
    "VariableType",
    "compile_template",
]
