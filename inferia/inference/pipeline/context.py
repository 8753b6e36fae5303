"""What one /v1 request carries through the pipeline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from inferia.contracts import Principal
from inferia.state import StateBackend, StateOp

Api = Literal["chat.completions", "completions", "embeddings"]
# Gets a deferred op's result, or the StateError it failed with. Must not raise.
OnResult = Callable[["RequestContext", Any], None]


@dataclass(slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(slots=True)
class DeferredOp:
    state: StateBackend
    op: StateOp
    on_result: OnResult


class RequestContext(msgspec.Struct):
    """One per request (a msgspec Struct: ~4x cheaper to build than a dataclass)."""

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
    # The routed model's default prompt template, if it has one (shape prompt).
    default_template: str | None = None
    # The routed model's default knowledge bases (retrieval), if it has some.
    default_knowledge_bases: tuple[str, ...] = ()
    # Real usage once known (upstream-reported or tiktoken-counted).
    usage: Usage | None = None
    # Final status; 499 when the client went away.
    status: int = 200
    error_code: str | None = None
    first_token_at: float | None = None
    # A non-streamed reply as it was sent to the client.
    reply: bytes | None = None
    # Bytes of the request body as received (what token counting of the prompt scales with).
    body_size: int = 0
    finished_at: float | None = None
    # Added to the client response.
    response_headers: dict[str, str] = msgspec.field(default_factory=dict)
    # Seconds spent waiting on upstreams (every attempt and back-off), for the overhead
    # header of a failed request too.
    upstream_s: float = 0.0
    # Per-step scratch space.
    extras: dict[str, Any] = msgspec.field(default_factory=dict)
    # State writes of the finish hooks, sent together once every hook ran.
    deferred: list[DeferredOp] = msgspec.field(default_factory=list)

    def defer(self, state: StateBackend, op: StateOp, on_result: OnResult) -> None:
        """From a finish hook: run ``op`` on ``state`` after every step's finish, in one
        round trip with the other steps' ops. ``on_result(ctx, result)`` then gets the
        op's result or the StateError it failed with."""
        self.deferred.append(DeferredOp(state, op, on_result))
