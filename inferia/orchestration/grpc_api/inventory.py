"""Node heartbeats over gRPC, authenticated by the node's own token in metadata."""

from __future__ import annotations

from inferia.orchestration.grpc_api import convert
from inferia.orchestration.grpc_api.guard import GrpcAccess
from inferia.orchestration.grpc_gen.inferia.orchestration import v1
from inferia.orchestration.nodes.service import InventoryService


class InventoryGrpc(v1.InventoryServiceBase):
    def __init__(self, service: InventoryService) -> None:
        self._service = service

    async def heartbeat(self, message: v1.HeartbeatRequest) -> v1.HeartbeatResponse:
        reply = await self._service.heartbeat(
            GrpcAccess.authorization(), convert.heartbeat(message)
        )
        return v1.HeartbeatResponse(
            node_id=reply.node_id,
            state=reply.state,
            heartbeat_timeout_s=reply.heartbeat_timeout_s,
            unknown_replicas=reply.unknown_replicas,
        )
