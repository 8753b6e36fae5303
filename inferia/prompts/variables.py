"""Binding a request's variables to a template's declarations, type-checked first."""

from __future__ import annotations

from typing import Any

from inferia.prompts.definition import VariableSpec, VariableType
from inferia.prompts.sandbox import RenderRefused, TemplateRefused


def _is(kind: VariableType, value: Any) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):  # bool is an int in Python, never a number here
        return False
    if kind == "integer":
        return isinstance(value, int)
    if kind == "number":
        return isinstance(value, int | float)
    if kind == "array":
        return isinstance(value, list)
    return isinstance(value, dict)


def check_declarations(specs: list[VariableSpec]) -> None:
    """At write time: unique names, defaults of the declared type, no required default."""
    seen: set[str] = set()
    for index, spec in enumerate(specs):
        where = f"variables[{index}]"
        if spec.name in seen:
            raise TemplateRefused(f"variable '{spec.name}' is declared twice", param=where)
        seen.add(spec.name)
        if spec.default is None:
            continue
        if spec.required:
            raise TemplateRefused(
                f"required variable '{spec.name}' cannot have a default", param=where
            )
        if not _is(spec.type, spec.default):
            raise TemplateRefused(
                f"the default of '{spec.name}' is not of type {spec.type}",
                param=f"{where}.default",
            )


def bind(specs: list[VariableSpec], given: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The render's variables: every declared one (given, default or None); ``prefix``
    names the field in errors ("inferia.variables" on /v1)."""
    declared = {spec.name for spec in specs}
    for name in given:
        if name not in declared:
            raise RenderRefused(
                f"the template declares no variable '{name}'", param=f"{prefix}.{name}"
            )
    bound: dict[str, Any] = {}
    for spec in specs:
        value = given.get(spec.name)
        if value is None:
            if spec.required:
                raise RenderRefused(
                    f"the variable '{spec.name}' is required", param=f"{prefix}.{spec.name}"
                )
            value = spec.default
        elif not _is(spec.type, value):
            raise RenderRefused(
                f"the variable '{spec.name}' must be of type {spec.type}",
                param=f"{prefix}.{spec.name}",
            )
        bound[spec.name] = value
    return bound
