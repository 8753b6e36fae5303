"""Request and response bodies of the pool routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[\w.\-]+$")]
Provider = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[\w.\-]+$")]
Count = Annotated[int, msgspec.Meta(ge=0, le=100_000)]


class PoolCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    provider: Provider
    config: dict[str, Any] = msgspec.field(default_factory=dict)
    # Write-only: sealed at rest, never returned.
    credentials: dict[str, str] | None = None
    allowed_gpu_types: list[str] = msgspec.field(default_factory=list)
    min_nodes: Count = 0
    max_nodes: Count = 1
    max_cost_per_hour: Annotated[float, msgspec.Meta(ge=0)] | None = None
    regions: list[str] = msgspec.field(default_factory=list)


class PoolRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    owner_id: str
    name: str
    provider: str
    config: dict[str, Any]
    has_credentials: bool
    allowed_gpu_types: list[str]
    min_nodes: int
    max_nodes: int
    max_cost_per_hour: float | None
    regions: list[str]
    state: str
    created_at: datetime


class PoolList(msgspec.Struct, frozen=True):
    data: list[PoolRecord]
