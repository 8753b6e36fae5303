"""What a template version is made of: message templates and declared variables.

The management API's request body and the port's payload are this one shape.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

VariableType = Literal["string", "number", "integer", "boolean", "array", "object"]
ROLES = ("system", "developer", "user", "assistant")
Role = Literal["system", "developer", "user", "assistant"]
# A Python identifier without a leading underscore: names starting with "_" are ours.
VariableName = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")]
Content = Annotated[str, msgspec.Meta(max_length=32_768)]


class MessageTemplate(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    role: Role
    # Jinja2 source, rendered in the sandbox (inferia.prompts.sandbox).
    content: Content


class VariableSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    name: VariableName
    type: VariableType
    required: bool = False
    # Used when the request does not give the variable; None: the template sees none.
    default: Any = None


class TemplateBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One version's content (immutable once stored)."""

    messages: Annotated[list[MessageTemplate], msgspec.Meta(min_length=1, max_length=64)]
    variables: Annotated[list[VariableSpec], msgspec.Meta(max_length=64)] = msgspec.field(
        default_factory=list
    )
