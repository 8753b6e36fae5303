"""Pool rows, always filtered by organisation."""

from __future__ import annotations

import json
import uuid
from typing import Any

from inferia.core.errors import ConflictError, NotFoundError
from inferia.db import wrap_errors
from inferia.orchestration.ids import parse_id
from inferia.orchestration.pools.schemas import PoolCreate, PoolRecord
from inferia.orchestration.pools.tables import ComputePool


class PoolStore:
    async def list_for(self, organization_id: str) -> list[PoolRecord]:
        async with wrap_errors():
            rows = (
                await ComputePool.select()
                .where(ComputePool.organization == organization_id)
                .order_by(ComputePool.name)
            )
        return [record(row) for row in rows]

    async def row(self, organization_id: str, pool_id: str) -> dict[str, Any]:
        key = parse_id(pool_id, "pool")
        async with wrap_errors():
            row = (
                await ComputePool.select()
                .where((ComputePool.id == key) & (ComputePool.organization == organization_id))
                .first()
            )
        if row is None:
            raise NotFoundError(f"pool {pool_id} not found")
        return row

    async def row_by_id(self, pool_id: str) -> dict[str, Any] | None:
        """Any organisation's pool (the reconciler's view)."""
        async with wrap_errors():
            return await ComputePool.select().where(ComputePool.id == pool_id).first()

    async def create(
        self,
        pool_id: uuid.UUID,
        organization_id: str,
        data: PoolCreate,
        config: dict[str, Any],
        sealed_credentials: str | None,
    ) -> PoolRecord:
        scoped = f"{organization_id}/{data.name}"
        async with wrap_errors():
            if await ComputePool.exists().where(ComputePool.scoped_name == scoped):
                raise ConflictError(f"a pool named '{data.name}' already exists", param="name")
            await ComputePool(
                id=pool_id,
                organization=organization_id,
                scoped_name=scoped,
                name=data.name,
                provider=data.provider,
                config=json.dumps(config),
                credentials=sealed_credentials,
                allowed_gpu_types=json.dumps(data.allowed_gpu_types),
                min_nodes=data.min_nodes,
                max_nodes=data.max_nodes,
                max_cost_per_hour=data.max_cost_per_hour,
                regions=json.dumps(data.regions),
            ).save()
        return record(await self.row(organization_id, str(pool_id)))

    async def delete(self, organization_id: str, pool_id: str) -> None:
        row = await self.row(organization_id, pool_id)
        async with wrap_errors():
            await ComputePool.delete().where(ComputePool.id == row["id"])


def record(row: dict[str, Any]) -> PoolRecord:
    return PoolRecord(
        id=str(row["id"]),
        owner_id=str(row["organization"]),
        name=row["name"],
        provider=row["provider"],
        config=json.loads(row["config"]),
        has_credentials=row["credentials"] is not None,
        allowed_gpu_types=json.loads(row["allowed_gpu_types"]),
        min_nodes=row["min_nodes"],
        max_nodes=row["max_nodes"],
        max_cost_per_hour=row["max_cost_per_hour"],
        regions=json.loads(row["regions"]),
        state=row["state"],
        created_at=row["created_at"],
    )
