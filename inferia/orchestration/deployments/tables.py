"""Deployments, their replicas and their event history."""

from __future__ import annotations

from piccolo.columns import (
    UUID,
    BigInt,
    BigSerial,
    Boolean,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from inferia.orchestration.nodes.tables import Node
from inferia.orchestration.pools.tables import ComputePool
from inferia.orchestration.registry.tables import RegisteredModel


class Deployment(Table, tablename="deployments"):
    id = UUID(primary_key=True)
    organization = UUID(index=True)
    model = ForeignKey(RegisteredModel, null=False, on_delete=OnDelete.restrict, index=True)
    pool = ForeignKey(ComputePool, null=False, on_delete=OnDelete.restrict, index=True)
    # The model name clients send (defaults to the registry name).
    served_name = Varchar(length=200)
    desired_replicas = Integer(default=1)
    ready_replicas = Integer(default=0)
    engine_args = Text(default="[]")
    resources = Text(default="{}")
    routing_strategy = Varchar(length=40, null=True, default=None)
    state = Varchar(length=16, index=True)
    error = Text(null=True, default=None)
    # The highest reconciler lease token that wrote this row: a deposed leader's late
    # write (an older token) is refused.
    fence = BigInt(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Replica(Table, tablename="deployment_replicas"):
    """One model server of a deployment, as the reconciler asked the adapter for it."""

    id = UUID(primary_key=True)
    deployment = ForeignKey(Deployment, null=False, on_delete=OnDelete.cascade, index=True)
    ordinal = Integer()
    # SecretBox-sealed API key generated for this model server (bound to the replica id).
    api_key = Text()
    # What the adapter calls this replica, if it names it itself (a pod, an instance).
    handle = Varchar(length=255, null=True, default=None)
    # The node that reports running it (inventory heartbeats); replaced when it is LOST.
    node = ForeignKey(Node, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    endpoint = Varchar(length=300, null=True, default=None)
    ready = Boolean(default=False)
    restarts = Integer(default=0)
    detail = Text(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    ready_at = Timestamptz(null=True, default=None)
    # Set when a scale-down takes it out of routing; stopped drain_s later.
    draining_since = Timestamptz(null=True, default=None)


class DeploymentEvent(Table, tablename="deployment_events"):
    """Every state transition (and scale request) of a deployment; append-only."""

    id = BigSerial(primary_key=True)
    deployment = UUID(index=True)
    organization = UUID(index=True)
    from_state = Varchar(length=16, null=True, default=None)
    to_state = Varchar(length=16)
    reason = Text(default="")
    # A user id, or "reconciler".
    actor = Varchar(length=64)
    created_at = Timestamptz(default=TimestamptzNow())
