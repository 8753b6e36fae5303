"""Pools and the model registry over gRPC: the same services as the REST routes."""

from __future__ import annotations

from inferia.orchestration.grpc_api import convert
from inferia.orchestration.grpc_api.guard import GrpcAccess
from inferia.orchestration.grpc_gen.inferia.orchestration import v1
from inferia.orchestration.pools.service import PoolService
from inferia.orchestration.registry.service import RegistryService


class PoolsGrpc(v1.ComputePoolManagerServiceBase):
    def __init__(self, service: PoolService) -> None:
        self._service = service

    async def create_pool(self, message: v1.CreatePoolRequest) -> v1.Pool:
        context = GrpcAccess.context("pools:write")
        return convert.pool_message(
            await self._service.create(context, convert.pool_create(message))
        )

    async def get_pool(self, message: v1.GetPoolRequest) -> v1.Pool:
        caller = GrpcAccess.caller("pools:read")
        return convert.pool_message(await self._service.get(caller.organization_id, message.id))

    async def list_pools(self, message: v1.ListPoolsRequest) -> v1.ListPoolsResponse:
        caller = GrpcAccess.caller("pools:read")
        pools = await self._service.list_for(caller.organization_id)
        return v1.ListPoolsResponse(pools=[convert.pool_message(p) for p in pools])

    async def delete_pool(self, message: v1.DeletePoolRequest) -> v1.DeletePoolResponse:
        await self._service.delete(GrpcAccess.context("pools:write"), message.id)
        return v1.DeletePoolResponse()


class RegistryGrpc(v1.ModelRegistryServiceBase):
    def __init__(self, service: RegistryService) -> None:
        self._service = service

    async def register_model(self, message: v1.RegisterModelRequest) -> v1.Model:
        context = GrpcAccess.context("deployments:write")
        return convert.model_message(
            await self._service.register(context, convert.model_register(message))
        )

    async def get_model(self, message: v1.GetModelRequest) -> v1.Model:
        caller = GrpcAccess.caller("deployments:read")
        model = await self._service.get(caller.organization_id, message.name, message.version)
        return convert.model_message(model)

    async def list_models(self, message: v1.ListModelsRequest) -> v1.ListModelsResponse:
        caller = GrpcAccess.caller("deployments:read")
        models = await self._service.list_for(caller.organization_id)
        return v1.ListModelsResponse(models=[convert.model_message(m) for m in models])

    async def delete_model(self, message: v1.DeleteModelRequest) -> v1.DeleteModelResponse:
        context = GrpcAccess.context("deployments:write")
        await self._service.delete(context, message.name, message.version)
        return v1.DeleteModelResponse()
