"""TemplateStore: organisation-scoped, versioned prompt templates, and the in-process
port (``load``).

A version is vetted by compiling it in the sandbox before it is stored, so a template
that uses an undeclared variable or a refused construct is a 422 at write time, never
a failure on the request path. Versions are never updated; the template row holds
which one is active and which is the newest. Changes go through ``TemplateService``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec

from inferia.contracts.templates import OrgTemplates, TemplateDefinition
from inferia.core.errors import ConflictError, NotFoundError
from inferia.db.errors import wrap_errors
from inferia.filtration.identity.store import aware
from inferia.filtration.models.tables import ModelDeployment
from inferia.filtration.templates.schemas import TemplateRecord, VersionRecord
from inferia.filtration.templates.tables import PromptTemplate, PromptTemplateVersion
from inferia.prompts import TemplateBody, compile_template

_encode = msgspec.json.encode
_decode_body = msgspec.json.Decoder(TemplateBody).decode


def _body(data: TemplateBody) -> TemplateBody:
    """The version part of a create body (which also carries the name)."""
    return TemplateBody(messages=data.messages, variables=data.variables)


class TemplateStore:
    async def list_for(self, organization_id: str) -> list[TemplateRecord]:
        async with wrap_errors():
            rows = (
                await PromptTemplate.select()
                .where(PromptTemplate.organization == organization_id)
                .order_by(PromptTemplate.name)
            )
        return [_record(row) for row in rows]

    async def get(self, organization_id: str, template_id: str) -> TemplateRecord:
        row = await self._row(organization_id, template_id)
        async with wrap_errors():
            versions = (
                await PromptTemplateVersion.select()
                .where(PromptTemplateVersion.template == row["id"])
                .order_by(PromptTemplateVersion.version)
            )
        return _record(row, [_version(v) for v in versions])

    async def create(self, organization_id: str, name: str, body: TemplateBody) -> TemplateRecord:
        compile_template(body)
        async with wrap_errors():
            taken = await PromptTemplate.exists().where(
                (PromptTemplate.organization == organization_id) & (PromptTemplate.name == name)
            )
        if taken:
            raise ConflictError(f"a template named '{name}' already exists", param="name")
        template_id = uuid.uuid4()
        async with wrap_errors():
            await PromptTemplate(
                id=template_id,
                organization=organization_id,
                name=name,
                active_version=1,
                latest_version=1,
            ).save()
            await self._insert_version(template_id, 1, body)
        return await self.get(organization_id, str(template_id))

    async def add_version(
        self, organization_id: str, template_id: str, body: TemplateBody
    ) -> TemplateRecord:
        """Version n+1 (not active until activated). A concurrent add of the same number
        loses on the unique index (409)."""
        compile_template(body)
        row = await self._row(organization_id, template_id)
        number = row["latest_version"] + 1
        async with wrap_errors():
            await self._insert_version(row["id"], number, body)
            await PromptTemplate.update(
                {PromptTemplate.latest_version: number, PromptTemplate.updated_at: _now()}
            ).where(PromptTemplate.id == row["id"])
        return await self.get(organization_id, template_id)

    async def activate(
        self, organization_id: str, template_id: str, version: int
    ) -> TemplateRecord:
        row = await self._row(organization_id, template_id)
        async with wrap_errors():
            exists = await PromptTemplateVersion.exists().where(
                (PromptTemplateVersion.template == row["id"])
                & (PromptTemplateVersion.version == version)
            )
        if not exists:
            raise NotFoundError(f"the template has no version {version}", param="version")
        async with wrap_errors():
            await PromptTemplate.update(
                {PromptTemplate.active_version: version, PromptTemplate.updated_at: _now()}
            ).where(PromptTemplate.id == row["id"])
        return await self.get(organization_id, template_id)

    async def delete(self, organization_id: str, template_id: str) -> TemplateRecord:
        """Refused (409) while a model names the template as its default."""
        row = await self._row(organization_id, template_id)
        async with wrap_errors():
            users = await ModelDeployment.select(ModelDeployment.name).where(
                (ModelDeployment.organization == organization_id)
                & (ModelDeployment.template == row["name"])
            )
        if users:
            names = ", ".join(sorted(u["name"] for u in users))
            raise ConflictError(f"the template is the default of the models {names}")
        async with wrap_errors():
            await PromptTemplate.delete().where(PromptTemplate.id == row["id"])
        return _record(row)

    async def body(
        self, organization_id: str, template_id: str, version: int | None
    ) -> tuple[int, TemplateBody]:
        """A version's content (the active one unless ``version``)."""
        row = await self._row(organization_id, template_id)
        number = row["active_version"] if version is None else version
        async with wrap_errors():
            found = (
                await PromptTemplateVersion.select(PromptTemplateVersion.body)
                .where(
                    (PromptTemplateVersion.template == row["id"])
                    & (PromptTemplateVersion.version == number)
                )
                .first()
            )
        if found is None:
            raise NotFoundError(f"the template has no version {number}", param="version")
        return number, _decode_body(found["body"])

    async def load(self, organization_id: str) -> OrgTemplates:
        """The in-process ``TemplateSource``: every template and version of one
        organisation, in two queries."""
        async with wrap_errors():
            rows = await PromptTemplate.select().where(
                PromptTemplate.organization == organization_id
            )
            versions = await PromptTemplateVersion.select(
                PromptTemplateVersion.template,
                PromptTemplateVersion.version,
                PromptTemplateVersion.body,
            ).where(PromptTemplateVersion.template.organization == organization_id)
        by_template: dict[str, dict[int, TemplateBody]] = {}
        for version in versions:
            by_template.setdefault(str(version["template"]), {})[version["version"]] = _decode_body(
                version["body"]
            )
        return OrgTemplates(
            templates={
                row["name"]: TemplateDefinition(
                    name=row["name"],
                    active_version=row["active_version"],
                    versions=by_template.get(str(row["id"]), {}),
                )
                for row in rows
            }
        )

    async def _insert_version(self, template_id: Any, number: int, body: TemplateBody) -> None:
        await PromptTemplateVersion(
            id=uuid.uuid4(),
            template=template_id,
            version=number,
            body=_encode(_body(body)).decode(),
        ).save()

    async def _row(self, organization_id: str, template_id: str) -> dict[str, Any]:
        try:
            uuid.UUID(template_id)
        except ValueError:
            raise NotFoundError("template not found") from None
        async with wrap_errors():
            row: dict[str, Any] | None = (
                await PromptTemplate.select()
                .where(
                    (PromptTemplate.id == template_id)
                    & (PromptTemplate.organization == organization_id)
                )
                .first()
            )
        if row is None:  # another organisation's template too: never say it exists
            raise NotFoundError("template not found")
        return row


def _now() -> datetime:
    return datetime.now(UTC)


def _version(row: dict[str, Any]) -> VersionRecord:
    body = _decode_body(row["body"])
    return VersionRecord(
        version=row["version"],
        messages=body.messages,
        variables=body.variables,
        created_at=aware(row["created_at"]),
    )


def _record(row: dict[str, Any], versions: list[VersionRecord] | None = None) -> TemplateRecord:
    return TemplateRecord(
        id=str(row["id"]),
        organization_id=str(row["organization"]),
        name=row["name"],
        version=row["latest_version"],
        active_version=row["active_version"],
        created_at=aware(row["created_at"]),
        updated_at=aware(row["updated_at"]),
        versions=versions,
    )
