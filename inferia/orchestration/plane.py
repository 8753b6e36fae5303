"""The orchestration (control) plane: REST routes and the gRPC server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Controller, get
from litestar.types import ControllerRouterHandler

from inferia.orchestration.grpc_server import GrpcServer

if TYPE_CHECKING:
    from inferia.runtime import Runtime


class OrchestrationPlane:
    """Built once per process by the app factory; its gRPC server lives with the app."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.grpc = GrpcServer(runtime)
        runtime.on_start(self.grpc.start)
        runtime.on_stop(self.grpc.close)

    def routes(self) -> list[ControllerRouterHandler]:
        grpc = self.grpc

        class InventoryController(Controller):
            path = "/inventory"
            tags = ["orchestration"]

            @get("/grpc", sync_to_thread=False)
            def grpc_inventory(self) -> dict[str, Any]:
                """The gRPC side of this plane: its port and the services it serves."""
                return {"grpc_port": grpc.port, "services": grpc.services}

        return [InventoryController]
