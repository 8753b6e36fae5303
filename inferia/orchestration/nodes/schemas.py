"""Request and response bodies of the inventory routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

Amount = Annotated[float, msgspec.Meta(ge=0, le=1e9)]
Endpoint = Annotated[str, msgspec.Meta(max_length=300, pattern=r"^https?://\S+$")]
InstanceId = Annotated[str, msgspec.Meta(max_length=255)]
ReplicaIds = Annotated[
    list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(max_length=1000)
]


class NodeResources(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Capacity or allocation: GPUs by type, GPU memory, CPUs, memory."""

    gpus: dict[Annotated[str, msgspec.Meta(max_length=64)], Annotated[int, msgspec.Meta(ge=0)]] = (
        msgspec.field(default_factory=dict)
    )
    gpu_memory_gb: Amount = 0
    cpus: Amount = 0
    memory_gb: Amount = 0


class NodeRegister(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pool_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    provider_instance_id: InstanceId = ""
    capacity: NodeResources = msgspec.field(default_factory=NodeResources)
    endpoint: Endpoint | None = None


class Heartbeat(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What a node reports; fields not sent keep their last value. ``replicas``: the ids
    of the replicas it runs now (it replaces the last report)."""

    capacity: NodeResources | None = None
    allocation: NodeResources | None = None
    endpoint: Endpoint | None = None
    replicas: ReplicaIds | None = None


class NodeRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    pool_id: str
    provider_instance_id: str
    capacity: NodeResources
    allocation: NodeResources
    state: str
    endpoint: str | None
    last_heartbeat: datetime | None
    created_at: datetime
    replicas: list[str] = msgspec.field(default_factory=list)


class RegisteredNode(msgspec.Struct, frozen=True, kw_only=True):
    node: NodeRecord
    # Shown once; the node presents it as ``authorization: Bearer <token>``.
    token: str


class NodeList(msgspec.Struct, frozen=True):
    data: list[NodeRecord]


class HeartbeatReply(msgspec.Struct, frozen=True, kw_only=True):
    node_id: str
    state: str
    # Send the next heartbeat well before this.
    heartbeat_timeout_s: float
    # Reported replica ids this pool does not have (stop them).
    unknown_replicas: list[str] = msgspec.field(default_factory=list)
