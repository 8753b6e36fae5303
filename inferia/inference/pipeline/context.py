"""What one /v1 request carries through the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from inferia.filtration import Principal

Api = Literal["chat.completions", "completions", "embeddings"]


@dataclass(slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(slots=True)
class RequestContext:
    request_id: str
    principal: Principal
    api: Api
    # The model name the client asked for.
    model: str
    # The JSON body as it will be sent upstream; steps may rewrite it.
    body: dict[str, Any]
    stream: bool
    client_address: str | None
    # time.monotonic() at arrival.
    received_at: float
    # Model/deployment actually served (after fallbacks) and the upstream endpoint id used.
    deployment: str | None = None
    endpoint: str | None = None
    # Real usage once known (upstream-reported or tiktoken-counted).
    usage: Usage | None = None
    # Final status; 499 when the client went away.
    status: int = 200
    error_code: str | None = None
    first_token_at: float | None = None
    finished_at: float | None = None
    # Added to the client response.
    response_headers: dict[str, str] = field(default_factory=dict)
    # Per-step scratch space.
    extras: dict[str, Any] = field(default_factory=dict)
