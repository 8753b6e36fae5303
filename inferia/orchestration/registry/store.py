"""Registered model rows, always filtered by organisation."""

from __future__ import annotations

import json
import uuid
from typing import Any

import msgspec

from inferia.core.errors import ConflictError, NotFoundError
from inferia.db import wrap_errors
from inferia.orchestration.adapters.protocol import Resources
from inferia.orchestration.registry.schemas import ModelRegister, RegisteredModelRecord
from inferia.orchestration.registry.tables import RegisteredModel


class RegistryStore:
    async def list_for(self, organization_id: str) -> list[RegisteredModelRecord]:
        async with wrap_errors():
            rows = (
                await RegisteredModel.select()
                .where(RegisteredModel.organization == organization_id)
                .order_by(RegisteredModel.name)
                .order_by(RegisteredModel.created_at)
            )
        return [record(row) for row in rows]

    async def row(self, organization_id: str, name: str, version: str) -> dict[str, Any]:
        async with wrap_errors():
            row = (
                await RegisteredModel.select()
                .where(RegisteredModel.scoped_name == f"{organization_id}/{name}/{version}")
                .first()
            )
        if row is None:
            raise NotFoundError(f"model {name} version {version} not found", param="model")
        return row

    async def row_by_id(self, model_id: Any) -> dict[str, Any] | None:
        async with wrap_errors():
            return await RegisteredModel.select().where(RegisteredModel.id == model_id).first()

    async def create(self, organization_id: str, data: ModelRegister) -> RegisteredModelRecord:
        scoped = f"{organization_id}/{data.name}/{data.version}"
        async with wrap_errors():
            if await RegisteredModel.exists().where(RegisteredModel.scoped_name == scoped):
                raise ConflictError(
                    f"model {data.name} version {data.version} is registered already; "
                    "versions are immutable: register a new one",
                    param="version",
                )
            await RegisteredModel(
                id=uuid.uuid4(),
                organization=organization_id,
                scoped_name=scoped,
                name=data.name,
                version=data.version,
                artifact_uri=data.artifact_uri,
                engine=data.engine,
                engine_args=json.dumps(data.engine_args),
                command=json.dumps(data.command),
                resources=msgspec.json.encode(data.resources).decode(),
            ).save()
        return record(await self.row(organization_id, data.name, data.version))

    async def delete(self, row_id: Any) -> None:
        async with wrap_errors():
            await RegisteredModel.delete().where(RegisteredModel.id == row_id)


def record(row: dict[str, Any]) -> RegisteredModelRecord:
    return RegisteredModelRecord(
        id=str(row["id"]),
        name=row["name"],
        version=row["version"],
        artifact_uri=row["artifact_uri"],
        engine=row["engine"],
        engine_args=json.loads(row["engine_args"]),
        command=json.loads(row["command"]),
        resources=msgspec.json.decode(row["resources"], type=Resources),
        created_at=row["created_at"],
    )
