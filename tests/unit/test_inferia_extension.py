"""The ``inferia`` extension field: always taken out of the body, and a wrong type is a
400 whose ``param`` names the key as the client wrote it."""

from __future__ import annotations

from typing import Any

import pytest

from inferia.core.errors import BadRequestError
from inferia.inference.extension import InferiaExtension, take_extension


def test_the_field_is_taken_out_of_the_body() -> None:
    body: dict[str, Any] = {
        "model": "m",
        "inferia": {"template": "support", "version": 3, "variables": {"name": "Ada"}},
    }
    assert take_extension(body) == InferiaExtension(
        template="support", version=3, variables={"name": "Ada"}
    )
    assert body == {"model": "m"}
    for empty in ({"model": "m"}, {"model": "m", "inferia": None}):
        assert take_extension(empty) is None
        assert "inferia" not in empty


@pytest.mark.parametrize(
    ("value", "param"),
    [
        ("support", "inferia"),
        ([], "inferia"),
        ({"template": 3}, "inferia.template"),
        ({"template": ""}, "inferia.template"),
        ({"version": 1.5}, "inferia.version"),
        ({"version": 0}, "inferia.version"),
        ({"variables": "x"}, "inferia.variables"),
        ({"knowledge": ["kb"]}, "inferia.knowledge"),
        ({"knowledge_bases": "kb"}, "inferia.knowledge_bases"),
        ({"top_k": "4"}, "inferia.top_k"),
    ],
)
def test_wrong_types_name_the_key(value: Any, param: str) -> None:
    body = {"model": "m", "inferia": value}
    with pytest.raises(BadRequestError) as refused:
        take_extension(body)
    assert refused.value.param == param
    assert "inferia" not in body  # refused or not, it never goes upstream
