"""Response bodies of ``/management/guardrails`` (the request body is a
``GuardrailPolicy``, the shape inferia.toml's ``[guardrails]`` uses)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from inferia.guardrails.policy import GuardrailPolicy


class GuardrailPolicyRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    organization_id: str
    model: str  # "*": the organisation's default
    policy: GuardrailPolicy
    created_at: datetime
    updated_at: datetime


class PolicyListing(msgspec.Struct, frozen=True, kw_only=True):
    data: list[GuardrailPolicyRecord]
    platform_default: GuardrailPolicy


class EffectivePolicy(msgspec.Struct, frozen=True, kw_only=True):
    """The policy a request for a model gets, and whose it is."""

    source: Literal["model", "organization", "platform"]
    policy: GuardrailPolicy


class ScannerInfo(msgspec.Struct, frozen=True):
    name: str


class EventView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    request_id: str
    key_id: str | None
    model: str
    direction: str
    scanner: str
    category: str
    action: str
    location: str
    score: float
    created_at: datetime


class EventFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which findings ``GET /management/guardrails/events`` lists, newest first."""

    limit: int = 100
    before: datetime | None = None
    direction: str | None = None
    action: str | None = None
    scanner: str | None = None
