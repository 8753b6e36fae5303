"""A template version compiled once, rendered per request."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from jinja2.exceptions import SecurityError, TemplateError

from inferia.config import TemplateSettings
from inferia.prompts.definition import TemplateBody
from inferia.prompts.sandbox import BUDGET, PromptSandbox, RenderRefused, _Budget
from inferia.prompts.variables import bind, check_declarations

_Generate = Callable[[dict[str, Any]], Iterator[str]]


class CompiledTemplate:
    __slots__ = ("_messages", "_variables", "limits")

    def __init__(
        self,
        body: TemplateBody,
        messages: list[tuple[str, _Generate]],
        limits: TemplateSettings,
    ) -> None:
        self._variables = body.variables
        self._messages = messages
        self.limits = limits

    def render(self, given: dict[str, Any], prefix: str = "variables") -> list[dict[str, str]]:
        """The rendered messages ({"role", "content"}); RenderRefused (400) when the
        variables do not fit the declarations or the render breaks a bound."""
        variables = bind(self._variables, given, prefix)
        budget = _Budget(self.limits)
        variables[BUDGET] = budget
        total = 0
        out: list[dict[str, str]] = []
        for index, (role, generate) in enumerate(self._messages):
            parts: list[str] = []
            try:
                # Counted chunk by chunk: an oversize render stops, it is not built first.
                for chunk in generate(variables):
                    total += len(chunk)
                    budget.check_size(total)
                    budget.check_time()
                    parts.append(chunk)
            except RenderRefused:
                raise
            except SecurityError as exc:
                raise RenderRefused(
                    f"the template did something not allowed: {exc}", param=f"messages[{index}]"
                ) from None
            except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as exc:
                raise RenderRefused(
                    f"the template failed to render: {exc}", param=f"messages[{index}]"
                ) from None
            except RecursionError:
                raise RenderRefused("the template nests too deeply") from None
            out.append({"role": role, "content": "".join(parts)})
        return out


def compile_template(
    body: TemplateBody, limits: TemplateSettings | None = None
) -> CompiledTemplate:
    """Vet and compile every message; TemplateRefused (422) names the bad field."""
    check_declarations(body.variables)
    sandbox = PromptSandbox()
    declared = [spec.name for spec in body.variables]
    messages: list[tuple[str, _Generate]] = []
    for index, message in enumerate(body.messages):
        tree = sandbox.check(message.content, declared, f"messages[{index}].content")
        messages.append((message.role, sandbox.compile_checked(tree)))
    return CompiledTemplate(body, messages, limits or TemplateSettings())
