"""The /v1 POST endpoints in the OpenAPI schema.

They are served beside Litestar (``inferia.core.http_entry``), so Litestar cannot see
them: their operations are written here from the same Structs that validate their
bodies (``schemas.py``), with the OpenAI error envelope every failure answers in.
"""

from __future__ import annotations

from typing import Any

import msgspec

from inferia.inference.api.schemas import SCHEMAS
from inferia.inference.flow import PATHS

_PREFIX = "V1"
_REF = "#/components/schemas/" + _PREFIX + "{name}"

_ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type", "code"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "param": {"type": ["string", "null"]},
                "code": {"type": ["string", "null"]},
            },
        }
    },
}
_ERRORS = {
    "400": "invalid body or parameters, or blocked by a guardrail",
    "401": "missing or invalid API key",
    "403": "the key may not use this model",
    "404": "no such model",
    "405": "only POST",
    "408": "the body did not arrive within server.body_read_timeout_s",
    "413": "body or text beyond the configured limits",
    "429": "a rate limit, quota or budget",
    "502": "the upstream failed",
    "503": "no upstream available, or the state backend is down (fail_closed)",
    "504": "the upstream timed out",
}


def v1_openapi() -> tuple[dict[str, Any], dict[str, Any]]:
    """(paths, component schemas) of the /v1 POST endpoints, as OpenAPI 3.1 data."""
    bodies, components = msgspec.json.schema_components(list(SCHEMAS.values()), ref_template=_REF)
    paths: dict[str, Any] = {}
    for (api, path), body in zip(PATHS.items(), bodies, strict=True):
        responses: dict[str, Any] = {
            "200": {
                "description": "the upstream's reply (a server-sent event stream when "
                "`stream` is true)",
                "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "text/event-stream": {"schema": {"type": "string"}},
                },
            }
        }
        for status, why in _ERRORS.items():
            responses[status] = {
                "description": why,
                "content": {"application/json": {"schema": _ERROR}},
            }
        paths[f"/v1{path}"] = {
            "post": {
                "operationId": f"v1_{api.replace('.', '_')}",
                "tags": ["inference"],
                "summary": f"OpenAI-compatible {api}",
                "security": [{"ApiKey": []}],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": body}},
                },
                "responses": responses,
            }
        }
    prefixed = {f"{_PREFIX}{name}": schema for name, schema in components.items()}
    return paths, prefixed
