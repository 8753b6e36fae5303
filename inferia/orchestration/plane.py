"""The orchestration (control) plane: pools, model registry, deployments and their
reconciler, the live-endpoint port, REST routes and the gRPC server."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from litestar import Controller, get
from litestar.types import ControllerRouterHandler

from inferia.contracts.access import CallerVerifier
from inferia.core.crypto import SecretBox
from inferia.core.errors import ConfigError
from inferia.orchestration.access import Access
from inferia.orchestration.adapters.discovery import AdapterRegistry
from inferia.orchestration.adapters.protocol import AdapterSetup
from inferia.orchestration.changes import Changes
from inferia.orchestration.deployments.routes import deployments_controller
from inferia.orchestration.deployments.service import DeploymentService
from inferia.orchestration.deployments.store import DeploymentStore
from inferia.orchestration.endpoints import LiveEndpoints, internal_endpoints_controller
from inferia.orchestration.grpc_api.deployments import DeploymentsGrpc
from inferia.orchestration.grpc_api.guard import GuardedService
from inferia.orchestration.grpc_api.inventory import InventoryGrpc
from inferia.orchestration.grpc_api.resources import PoolsGrpc, RegistryGrpc
from inferia.orchestration.grpc_server import GrpcServer
from inferia.orchestration.grpc_services import OrchestrationService
from inferia.orchestration.nodes.routes import inventory_controller
from inferia.orchestration.nodes.service import InventoryService
from inferia.orchestration.nodes.store import NodeStore
from inferia.orchestration.nodes.tokens import NodeTokens
from inferia.orchestration.pools.routes import pools_controller
from inferia.orchestration.pools.service import PoolService
from inferia.orchestration.pools.store import PoolStore
from inferia.orchestration.reconciler.deployment_pass import DeploymentPass
from inferia.orchestration.reconciler.loop import Reconciler
from inferia.orchestration.reconciler.node_sweep import NodeSweep
from inferia.orchestration.reconciler.probe import ReadinessProbe
from inferia.orchestration.registry.routes import registry_controller
from inferia.orchestration.registry.service import RegistryService
from inferia.orchestration.registry.store import RegistryStore

if TYPE_CHECKING:
    from inferia.runtime import Runtime


class OrchestrationPlane:
    """Built once per process by the app factory; everything it runs lives with the app."""

    def __init__(self, runtime: Runtime, verifier: CallerVerifier) -> None:
        self.runtime = runtime
        settings = runtime.settings
        if runtime.database is None or not settings.security.encryption_key:
            raise ConfigError("the orchestration plane needs its database and an encryption key")
        security = settings.security
        box = SecretBox(security.encryption_key, security.previous_encryption_keys)
        config = settings.orchestration
        self.adapters = AdapterRegistry(
            AdapterSetup(
                data_dir=settings.data_path,
                stop_grace_s=config.stop_grace_s,
                restart_backoff_s=config.restart_backoff_s,
                restart_backoff_max_s=config.restart_backoff_max_s,
            )
        )
        changes = Changes(runtime.database, runtime.state)
        pools, registry, deployments = PoolStore(), RegistryStore(), DeploymentStore()
        self.access = Access(verifier)
        self.pools = PoolService(pools, changes, self.adapters, box)
        self.registry = RegistryService(registry, changes)
        self.deployments = DeploymentService(
            deployments, pools, registry, changes, self.adapters, box
        )
        nodes = NodeStore()
        self.inventory = InventoryService(
            nodes, pools, changes, NodeTokens(security.encryption_key), config.heartbeat_timeout_s
        )
        # The in-process live-endpoint port (the gateway's routing table reads it).
        self.live_endpoints = LiveEndpoints(box)
        probe = ReadinessProbe(lambda: runtime.http, config.readiness_probe_timeout_s)
        self.reconciler = Reconciler(
            config,
            runtime.state,
            _lease_scope(settings.database.url or str(settings.data_path.resolve())),
            deployments,
            pools,
            registry,
            self.adapters,
            DeploymentPass(deployments, box, probe, config.readiness_timeout_s, config.drain_s),
            NodeSweep(nodes, config.heartbeat_timeout_s, config.node_lost_after_s),
        )
        runtime.on_start(self.reconciler.start)
        runtime.on_stop(self.reconciler.close)
        self._internal_token = security.internal_token
        self.grpc = GrpcServer(
            runtime,
            [
                GuardedService(service, verifier)
                for service in (
                    OrchestrationService(runtime),
                    PoolsGrpc(self.pools),
                    RegistryGrpc(self.registry),
                    DeploymentsGrpc(self.deployments, runtime.state),
                )
            ]
            # The node heartbeat checks the node's own token, not a user's.
            + [GuardedService(InventoryGrpc(self.inventory), verifier, self_auth=True)],
        )
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

        return [
            InventoryController,
            pools_controller(self.pools, self.access),
            registry_controller(self.registry, self.access),
            deployments_controller(self.deployments, self.access),
            inventory_controller(self.inventory, self.access),
            internal_endpoints_controller(self.live_endpoints, self._internal_token),
        ]


def _lease_scope(database_identity: str) -> str:
    # Processes sharing a database share a lease; the digest keeps credentials out of keys.
    return hashlib.blake2b(database_identity.encode(), digest_size=8).hexdigest()
