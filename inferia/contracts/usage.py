"""The usage event: what the inference plane enqueues per request, and the consumer writes.

One event becomes one usage record and one inference log row, both keyed by ``id``
(so a redelivered event is written once). Bodies, when kept, are already sealed
(``inferia.core.crypto.SecretBox``, context ``"inference-log:<id>"``): plaintext
bodies never reach the queue or the database.
"""

from __future__ import annotations

import msgspec

USAGE_STREAM = "inferia:usage"
USAGE_GROUP = "usage-writers"


def body_context(event_id: str) -> str:
    return f"inference-log:{event_id}"


class UsageEvent(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    id: str
    request_id: str
    organization_id: str
    key_id: str | None = None
    user_id: str | None = None
    api: str
    model: str
    deployment: str | None = None
    endpoint: str | None = None
    status: int = 200
    error_code: str | None = None
    stream: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_micros: int = 0
    latency_ms: int = 0
    ttft_ms: int | None = None
    client_address: str | None = None
    created_at: float  # epoch seconds
    request_body: str | None = None
    response_body: str | None = None
