"""The orchestration plane's tables, parents before children (foreign keys)."""

from __future__ import annotations

from piccolo.table import Table

from inferia.orchestration.audit_tables import OrchestrationAudit
from inferia.orchestration.deployments.tables import Deployment, DeploymentEvent, Replica
from inferia.orchestration.nodes.tables import Node
from inferia.orchestration.pools.tables import ComputePool
from inferia.orchestration.registry.tables import RegisteredModel

TABLES: tuple[type[Table], ...] = (
    ComputePool,
    RegisteredModel,
    Node,
    Deployment,
    Replica,
    DeploymentEvent,
    OrchestrationAudit,
)
