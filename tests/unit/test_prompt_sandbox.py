"""The template sandbox: what a prompt template may do, and the bounds a render keeps.

Each refusal is asserted on the error a caller sees (class, message, ``param``)."""

from __future__ import annotations

import time
from typing import Any

import msgspec
import pytest

from inferia.config import TemplateSettings
from inferia.prompts import (
    RenderRefused,
    TemplateBody,
    TemplateRefused,
    compile_template,
)


def body(content: str, variables: list[dict[str, Any]] | None = None) -> TemplateBody:
    return msgspec.convert(
        {"messages": [{"role": "system", "content": content}], "variables": variables or []},
        TemplateBody,
    )


def render(content: str, variables: dict[str, Any] | None = None, **limits: Any) -> str:
    declared = [{"name": name, "type": "string"} for name in variables or {}]
    template = compile_template(body(content, declared), TemplateSettings(**limits))
    return template.render(variables or {})[0]["content"]


def test_a_template_renders_its_declared_variables() -> None:
    template = compile_template(
        body(
            "Hi {{ name }}, {{ age + 1 }}; {% for t in tags %}[{{ t|upper }}]{% endfor %}"
            "{% if vip %} VIP{% endif %} {{ meta.plan }}",
            [
                {"name": "name", "type": "string", "required": True},
                {"name": "age", "type": "integer", "default": 41},
                {"name": "tags", "type": "array", "default": ["a", "b"]},
                {"name": "vip", "type": "boolean"},
                {"name": "meta", "type": "object", "default": {"plan": "pro"}},
            ],
        )
    )
    out = template.render({"name": "Ada"})
    assert out == [{"role": "system", "content": "Hi Ada, 42; [A][B] pro"}]
    assert template.render({"name": "Ada", "vip": True})[0]["content"].endswith(" VIP pro")


@pytest.mark.parametrize(
    ("given", "param", "message"),
    [
        ({}, "variables.name", "required"),
        ({"name": 3}, "variables.name", "type string"),
        ({"name": "a", "count": "3"}, "variables.count", "type integer"),
        ({"name": "a", "count": True}, "variables.count", "type integer"),
        ({"name": "a", "other": 1}, "variables.other", "declares no variable"),
    ],
)
def test_variables_are_type_checked_before_rendering(
    given: dict[str, Any], param: str, message: str
) -> None:
    template = compile_template(
        body(
            "{{ name }} {{ count }}",
            [
                {"name": "name", "type": "string", "required": True},
                {"name": "count", "type": "integer", "default": 1},
            ],
        )
    )
    with pytest.raises(RenderRefused) as refused:
        template.render(given)
    assert refused.value.status_code == 400
    assert refused.value.param == param
    assert message in refused.value.message


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("{% include 'other' %}", "'include' is not allowed"),
        ("{% import 'm' as m %}", "'import' is not allowed"),
        ("{% from 'm' import x %}", "'import' is not allowed"),
        ("{% extends 'base' %}", "'extends' is not allowed"),
        ("{% macro m() %}{{ m() }}{% endmacro %}", "'macro' is not allowed"),
        ("{% set x %}{{ 1 }}{% endset %}", "'block set' is not allowed"),
        ("{% for i in [1] recursive %}{{ loop([]) }}{% endfor %}", "recursive loops"),
        ("{{ undeclared }}", "undeclared variables: undeclared"),
        ("{{ lipsum() }} {{ cycler }} {{ namespace() }}", "undeclared variables"),
        ("{{ unclosed ", "syntax error"),
    ],
)
def test_refused_constructs_are_422_when_written(source: str, reason: str) -> None:
    with pytest.raises(TemplateRefused) as refused:
        compile_template(body(source))
    assert refused.value.status_code == 422
    assert refused.value.param == "messages[0].content"
    assert reason in refused.value.message


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ range.__globals__ }}",
        "{{ self.__init__.__globals__ }}",
        "{{ ''.format }}{{ ''.format('{0.__class__}', 1) }}",
        "{{ 'a'.center(10000000) }}",
        "{{ 'a'.ljust(10000000) }}",
        "{{ '%99999999s' % 'a' }}",
        "{{ (10 ** 64) ** 64 ** 2 }}",
        "{{ {}.update(a=1) }}",
    ],
)
def test_sandbox_escapes_are_refused_at_render(source: str) -> None:
    try:
        template = compile_template(body(source))
    except TemplateRefused:
        return  # refused even earlier
    with pytest.raises(RenderRefused) as refused:
        template.render({})
    assert refused.value.status_code == 400


@pytest.mark.parametrize(
    "source",
    [
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "{% for i in range(10001) %}{% endfor %}",
        "{{ 'a' * 10000000 }}",
        "{{ [[1] * 60000] * 60000 }}",
        "{% set a = 'a' * 1000 %}" + "{% set a = a ~ a %}" * 40 + "{{ a|length }}",
        "{% set a = 'a' * 1000 %}" + "{% set a = a + a %}" * 40 + "{{ a|length }}",
        "{% set a = ['a' * 1000] %}" + "{% set a = a + a %}" * 40 + "{{ a|join }}",
        "{{ ('x' * 60000)|replace('', 'yy') }}",
        "{{ ('x' * 60000).replace('x', 'yyyy') }}",
        "{% for i in range(10000) %}{{ 'x' * 50 }}{% endfor %}",
    ],
)
def test_huge_work_or_output_stops_with_a_400(source: str) -> None:
    template = compile_template(body(source))
    started = time.monotonic()
    with pytest.raises(RenderRefused) as refused:
        template.render({})
    assert time.monotonic() - started < 1.0
    assert "loop iterations" in refused.value.message or "exceeds" in refused.value.message


def test_the_time_bound_stops_a_slow_render() -> None:
    source = "{% for i in range(5000) %}{{ ('x' * 5000).upper()|length }}{% endfor %}"
    with pytest.raises(RenderRefused, match="longer than"):
        render(source, render_timeout_ms=1, max_output_chars=10**6)


def test_a_render_under_the_bounds_is_exact() -> None:
    assert render("{% for i in range(3) %}{{ i }}{{ ',' if not loop.last }}{% endfor %}") == "0,1,2"
    assert render("{{ who|title }} {{ 'x' * 3 }}", {"who": "ada lovelace"}) == "Ada Lovelace xxx"


def test_declarations_are_checked_when_written() -> None:
    with pytest.raises(TemplateRefused, match="declared twice"):
        compile_template(body("x", [{"name": "a", "type": "string"}] * 2))
    with pytest.raises(TemplateRefused, match="not of type integer"):
        compile_template(body("x", [{"name": "a", "type": "integer", "default": "1"}]))
    with pytest.raises(TemplateRefused, match="cannot have a default"):
        compile_template(
            body("x", [{"name": "a", "type": "string", "required": True, "default": "d"}])
        )
