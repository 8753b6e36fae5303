"""ModelStore: organisation-scoped model definitions, and the in-process port.

Upstream API keys, and endpoint headers whose names say they carry a credential
(``api-key``, ``x-api-key``, ``x-auth-token``...), are sealed with the platform's
SecretBox (bound to the row id) and only opened for the inference plane (``load``):
answers show such headers as ``********`` (sending ``********`` back keeps the stored
value). URLs with user-info (``https://user:pass@host``) are refused: credentials go in
``api_key`` or a header. Changes go through ``ModelService``,
which audits them and announces them so each process rebuilds its routing table.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec

from inferia.contracts.models import ModelDefinition, ModelEndpointDefinition
from inferia.core.crypto import SecretBox
from inferia.core.errors import ConflictError, NotFoundError, ValidationError
from inferia.core.ssrf import SsrfRefused, check_url, has_userinfo
from inferia.core.upstream_headers import (
    MASK,
    HeaderRefused,
    check_header_value,
    check_upstream_headers,
    is_credential_name,
)
from inferia.db.errors import wrap_errors
from inferia.filtration.knowledge_bases.tables import KnowledgeBase
from inferia.filtration.models.schemas import (
    EndpointInput,
    EndpointRecord,
    ModelCreate,
    ModelRecord,
    ModelUpdate,
)
from inferia.filtration.models.tables import ModelDeployment
from inferia.filtration.templates.tables import PromptTemplate


class ModelStore:
    def __init__(self, box: SecretBox | None, *, allow_private: bool) -> None:
        self._box = box
        self._allow_private = allow_private

    async def list_for(self, organization_id: str) -> list[ModelRecord]:
        async with wrap_errors():
            rows = (
                await ModelDeployment.select()
                .where(ModelDeployment.organization == organization_id)
                .order_by(ModelDeployment.name)
            )
        return [_record(row) for row in rows]

    async def get(self, organization_id: str, model_id: str) -> ModelRecord:
        return _record(await self._row(organization_id, model_id))

    async def create(self, organization_id: str, data: ModelCreate) -> ModelRecord:
        await self._check_endpoints(data.endpoints)
        await _check_template(organization_id, data.template)
        await _check_knowledge_bases(organization_id, data.knowledge_bases)
        async with wrap_errors():
            taken = await ModelDeployment.exists().where(
                (ModelDeployment.organization == organization_id)
                & (ModelDeployment.name == data.name)
            )
        if taken:
            raise ConflictError(f"a model named '{data.name}' already exists", param="name")
        row_id = uuid.uuid4()
        row = ModelDeployment(
            id=row_id,
            organization=organization_id,
            name=data.name,
            routing_strategy=data.routing_strategy,
            template=data.template,
            knowledge_bases=json.dumps(data.knowledge_bases),
            endpoints=json.dumps(self._seal(str(row_id), data.endpoints, [])),
        )
        async with wrap_errors():
            await row.save()
        return await self.get(organization_id, str(row_id))

    async def update(self, organization_id: str, model_id: str, data: ModelUpdate) -> ModelRecord:
        row = await self._row(organization_id, model_id)
        values: dict[Any, Any] = {ModelDeployment.updated_at: datetime.now(UTC)}
        if not isinstance(data.routing_strategy, msgspec.UnsetType):
            values[ModelDeployment.routing_strategy] = data.routing_strategy
        if not isinstance(data.template, msgspec.UnsetType):
            await _check_template(organization_id, data.template)
            values[ModelDeployment.template] = data.template
        if not isinstance(data.knowledge_bases, msgspec.UnsetType):
            await _check_knowledge_bases(organization_id, data.knowledge_bases)
            values[ModelDeployment.knowledge_bases] = json.dumps(data.knowledge_bases)
        if not isinstance(data.endpoints, msgspec.UnsetType):
            await self._check_endpoints(data.endpoints)
            stored = json.loads(row["endpoints"])
            values[ModelDeployment.endpoints] = json.dumps(
                self._seal(model_id, data.endpoints, stored)
            )
        async with wrap_errors():
            await ModelDeployment.update(values).where(ModelDeployment.id == model_id)
        return await self.get(organization_id, model_id)

    async def delete(self, organization_id: str, model_id: str) -> ModelRecord:
        record = await self.get(organization_id, model_id)
        async with wrap_errors():
            await ModelDeployment.delete().where(ModelDeployment.id == model_id)
        return record

    async def load(self) -> list[ModelDefinition]:
        """The in-process ModelDefinitionSource: every organisation's models, keys opened."""
        async with wrap_errors():
            rows = await ModelDeployment.select()
        return [self._definition(row) for row in rows]

    def _definition(self, row: dict[str, Any]) -> ModelDefinition:
        endpoints = []
        context = f"model:{row['id']}"
        for stored in json.loads(row["endpoints"]):
            sealed = stored.pop("api_key_sealed", None)
            api_key = ""
            if sealed and self._box is not None:
                api_key = self._box.decrypt(sealed, context)
            opened = self._opened_headers(stored, context)
            stored.pop("headers_sealed", None)
            stored.pop("sealed_header_names", None)
            stored["headers"] = {**stored.get("headers", {}), **opened}
            endpoints.append(ModelEndpointDefinition(api_key=api_key, **stored))
        return ModelDefinition(
            id=str(row["id"]),
            organization_id=str(row["organization"]),
            name=row["name"],
            routing_strategy=row["routing_strategy"],
            endpoints=tuple(endpoints),
            template=row["template"],
            knowledge_bases=tuple(json.loads(row["knowledge_bases"])),
            private_upstreams_allowed=self._allow_private,
        )

    def _seal(
        self, model_id: str, endpoints: list[EndpointInput], stored: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        context = f"model:{model_id}"
        previous = {e["base_url"]: e for e in stored}
        out = []
        for endpoint in endpoints:
            item = msgspec.to_builtins(endpoint)
            before = previous.get(endpoint.base_url, {})
            api_key = item.pop("api_key")
            if api_key:
                item["api_key_sealed"] = self._box_for("api_key").encrypt(api_key, context)
            elif api_key is None and before.get("api_key_sealed"):
                item["api_key_sealed"] = before["api_key_sealed"]
            # Credential headers: write-only like api_key; "********" keeps the stored one.
            kept = self._opened_headers(before, context) if before else {}
            plain: dict[str, str] = {}
            secret: dict[str, str] = {}
            for name, value in item.pop("headers").items():
                if not is_credential_name(name):
                    plain[name] = value
                elif value != MASK:
                    secret[name] = value
                elif name in kept:
                    secret[name] = kept[name]
                else:
                    raise ValidationError(
                        f"header {name!r}: no stored value to keep", param="headers"
                    )
            item["headers"] = plain
            if secret:
                blob = json.dumps(secret)
                item["headers_sealed"] = self._box_for("headers").encrypt(blob, context)
                item["sealed_header_names"] = sorted(secret)
            out.append(item)
        return out

    def _box_for(self, param: str) -> SecretBox:
        if self._box is None:
            raise ValidationError("no encryption key is configured", param=param)
        return self._box

    def _opened_headers(self, stored: dict[str, Any], context: str) -> dict[str, str]:
        """The sealed credential headers of a stored endpoint, opened."""
        sealed = stored.get("headers_sealed")
        if not sealed or self._box is None:
            return {}
        opened: dict[str, str] = json.loads(self._box.decrypt(sealed, context))
        return opened

    async def _check_endpoints(self, endpoints: list[EndpointInput]) -> None:
        for index, endpoint in enumerate(endpoints):
            if has_userinfo(endpoint.base_url):
                raise ValidationError(
                    "upstream URL refused: credentials in the URL; use api_key or a header",
                    param=f"endpoints[{index}].base_url",
                )
            try:
                check_upstream_headers(endpoint.headers)
            except HeaderRefused as exc:
                raise ValidationError(str(exc), param=f"endpoints[{index}].headers") from None
            try:
                check_header_value("api_key", endpoint.api_key or "")
            except HeaderRefused as exc:
                raise ValidationError(str(exc), param=f"endpoints[{index}].api_key") from None
            try:
                await asyncio.to_thread(
                    check_url, endpoint.base_url, allow_private=self._allow_private
                )
            except SsrfRefused as exc:
                raise ValidationError(
                    f"upstream URL refused: {exc}", param=f"endpoints[{index}].base_url"
                ) from None

    async def _row(self, organization_id: str, model_id: str) -> dict[str, Any]:
        try:
            uuid.UUID(model_id)
        except ValueError:
            raise NotFoundError("model not found") from None
        async with wrap_errors():
            row = (
                await ModelDeployment.select()
                .where(
                    (ModelDeployment.id == model_id)
                    & (ModelDeployment.organization == organization_id)
                )
                .first()
            )
        if row is None:
            raise NotFoundError("model not found")
        return row


async def _check_template(organization_id: str, name: str | None) -> None:
    """A default template must be one of the organisation's (deleting it is then refused)."""
    if name is None:
        return
    async with wrap_errors():
        exists = await PromptTemplate.exists().where(
            (PromptTemplate.organization == organization_id) & (PromptTemplate.name == name)
        )
    if not exists:
        raise ValidationError(f"the organisation has no template '{name}'", param="template")


async def _check_knowledge_bases(organization_id: str, names: list[str]) -> None:
    """Default knowledge bases must be the organisation's (deleting one is then refused)."""
    if not names:
        return
    async with wrap_errors():
        rows = await KnowledgeBase.select(KnowledgeBase.name).where(
            (KnowledgeBase.organization == organization_id) & KnowledgeBase.name.is_in(names)
        )
    missing = sorted(set(names) - {row["name"] for row in rows})
    if missing:
        raise ValidationError(
            f"the organisation has no knowledge base '{missing[0]}'", param="knowledge_bases"
        )


def _record(row: dict[str, Any]) -> ModelRecord:
    endpoints = []
    for stored in json.loads(row["endpoints"]):
        has_key = bool(stored.pop("api_key_sealed", None))
        stored.pop("headers_sealed", None)
        sealed_names = stored.pop("sealed_header_names", [])
        # Masked by name, also in rows stored before credential headers were sealed.
        headers = {
            name: MASK if is_credential_name(name) else value
            for name, value in stored.pop("headers", {}).items()
        }
        headers.update(dict.fromkeys(sealed_names, MASK))
        endpoints.append(EndpointRecord(has_api_key=has_key, headers=headers, **stored))
    return ModelRecord(
        id=str(row["id"]),
        organization_id=str(row["organization"]),
        name=row["name"],
        routing_strategy=row["routing_strategy"],
        endpoints=endpoints,
        template=row["template"],
        knowledge_bases=json.loads(row["knowledge_bases"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
