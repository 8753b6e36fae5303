"""The orchestration (control) plane: pools, registry, deployments, inventory, gRPC."""

from inferia.orchestration.plane import OrchestrationPlane

__all__ = ["OrchestrationPlane"]
