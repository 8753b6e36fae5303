"""Request and response bodies of the deployment routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from inferia.contracts.models import StrategyName
from inferia.orchestration.adapters.protocol import Resources
from inferia.orchestration.registry.schemas import Args, Name, Version

Replicas = Annotated[int, msgspec.Meta(ge=0, le=1000)]


class DeployRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    model: Name
    version: Version
    pool_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    replicas: Replicas = 1
    # The model name clients send; defaults to the registry name.
    served_name: Name | None = None
    # Replace the model's defaults when given.
    engine_args: Args | None = None
    resources: Resources | None = None
    routing_strategy: StrategyName | None = None


class ScaleRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    replicas: Replicas


class ReplicaCounts(msgspec.Struct, frozen=True, kw_only=True):
    desired: int
    ready: int


class EventRecord(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    from_state: str | None = msgspec.field(name="from")
    to_state: str = msgspec.field(name="to")
    reason: str
    actor: str


class DeploymentRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    state: str
    model: str
    version: str
    pool_id: str
    served_name: str
    replicas: ReplicaCounts
    # The ready replicas' model-server URLs (never their keys).
    endpoints: list[str]
    error: str | None
    engine_args: list[str]
    resources: Resources
    routing_strategy: str | None
    created_at: datetime
    updated_at: datetime
    events: list[EventRecord] = msgspec.field(default_factory=list)


class DeploymentList(msgspec.Struct, frozen=True):
    data: list[DeploymentRecord]


class EventList(msgspec.Struct, frozen=True):
    data: list[EventRecord]
