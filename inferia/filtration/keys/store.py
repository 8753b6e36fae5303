"""ApiKeyStore: issue, list, update, revoke and verify API keys.

Every change commits together with its audit record, then is announced on
``API_KEY_CHANGES_CHANNEL`` so each process' principal cache drops the key at once;
verification itself is the in-process ``PrincipalResolver`` that the cache sits in
front of.

Pepper rotation: keys are looked up by ``HMAC(pepper, key)``. After the pepper
changes, a key not found under the current pepper is looked up under each of
``security.previous_api_key_peppers``; when found, its stored digest is upgraded to
the current pepper, so old peppers can be dropped once every live key has been used
(``inferia keys pepper-status`` counts the live keys still under an old pepper).
"""

from __future__ import annotations

import hmac
import json
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec

from inferia.contracts.principals import API_KEY_CHANGES_CHANNEL, Principal
from inferia.core.errors import NotFoundError, ValidationError
from inferia.db.errors import wrap_errors
from inferia.filtration.audit import AuditContext, AuditTrail
from inferia.filtration.keys.format import (
    PREFIX,
    ApiKeyFormatError,
    generate_api_key,
    key_digest,
    parse_api_key,
    pepper_id,
)
from inferia.filtration.keys.tables import ApiKey
from inferia.state import StateBackend

if TYPE_CHECKING:
    from inferia.db import Database

log = logging.getLogger(__name__)
MAX_NAME_LENGTH = 200
MAX_ALLOWED_MODELS = 256
MAX_MODEL_NAME_LENGTH = 256
_UNCHANGED: Any = object()


class ApiKeyRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What may be shown about a key: everything but the secret."""

    id: str
    organization_id: str
    user_id: str | None
    name: str
    prefix: str
    allowed_models: list[str]
    expires_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime


class CreatedApiKey(msgspec.Struct, frozen=True, kw_only=True):
    record: ApiKeyRecord
    key: str  # the plaintext, returned exactly once


class ApiKeyStore:
    def __init__(
        self,
        database: Database | None,
        state: StateBackend,
        audit: AuditTrail,
        pepper: str,
        *,
        previous_peppers: Sequence[str] = (),
    ) -> None:
        # ``database`` is only needed to change keys; verification uses the bound tables.
        self._database = database
        self._state = state
        self._audit = audit
        self._pepper = pepper.encode()
        self._previous_peppers = tuple(p.encode() for p in previous_peppers if p)

    def _db(self) -> Database:
        if self._database is None:
            raise RuntimeError("this ApiKeyStore was built without a database")
        return self._database

    async def create(
        self,
        context: AuditContext,
        organization_id: str,
        name: str,
        *,
        user_id: str | None = None,
        allowed_models: Sequence[str] = (),
        expires_at: datetime | None = None,
    ) -> CreatedApiKey:
        name = _checked_name(name)
        models = _checked_models(allowed_models)
        expires_at = _checked_expiry(expires_at)
        issued = generate_api_key()
        row = ApiKey(
            id=uuid.uuid4(),
            organization=organization_id,
            user=user_id,
            name=name,
            public_id=issued.public_id,
            digest=key_digest(self._pepper, issued.plaintext),
            pepper_id=pepper_id(self._pepper),
            allowed_models=json.dumps(models),
            expires_at=expires_at,
        )
        async with self._db().transaction():
            await row.save()
            await self._audit.record_as(
                context,
                "api_key.create",
                target=str(row.id),
                organization_id=organization_id,
                details={"name": name, "key_prefix": f"{PREFIX}{issued.public_id}"},
            )
        return CreatedApiKey(record=_record(row.to_dict()), key=issued.plaintext)

    async def list(
        self, organization_id: str, *, include_revoked: bool = False
    ) -> list[ApiKeyRecord]:
        query = ApiKey.select().where(ApiKey.organization == organization_id)
        if not include_revoked:
            query = query.where(ApiKey.revoked_at.is_null())
        async with wrap_errors():
            rows = await query.order_by(ApiKey.created_at)
        return [_record(row) for row in rows]

    async def find(self, organization_id: str | None, id_or_prefix: str) -> ApiKeyRecord:
        """A key by id or by public id (the part after ``sk-inf-``); org-scoped if given.

        A key of another organisation is "not found", exactly like a missing one."""
        public_id = id_or_prefix.removeprefix(PREFIX).split("-", 1)[0]
        condition = ApiKey.public_id == public_id
        if _is_uuid(id_or_prefix):
            condition = ApiKey.id == id_or_prefix
        query = ApiKey.select().where(condition)
        if organization_id is not None:
            query = query.where(ApiKey.organization == organization_id)
        async with wrap_errors():
            row = await query.first()
        if row is None:
            raise NotFoundError("API key not found")
        return _record(row)

    async def revoke(
        self, context: AuditContext, organization_id: str | None, id_or_prefix: str
    ) -> ApiKeyRecord:
        record = await self.find(organization_id, id_or_prefix)
        now = datetime.now(UTC)
        async with self._db().transaction():
            if record.revoked_at is None:
                await ApiKey.update({ApiKey.revoked_at: now, ApiKey.updated_at: now}).where(
                    ApiKey.id == record.id
                )
            await self._audit.record_as(
                context,
                "api_key.revoke",
                target=record.id,
                organization_id=record.organization_id,
                details={"name": record.name, "key_prefix": record.prefix},
            )
        await self.announce_change(record.id)
        return await self.find(organization_id, record.id)

    async def update(
        self,
        context: AuditContext,
        organization_id: str,
        key_id: str,
        *,
        name: str = _UNCHANGED,
        allowed_models: Sequence[str] = _UNCHANGED,
        expires_at: datetime | None = _UNCHANGED,
    ) -> ApiKeyRecord:
        """Change name, allowed_models or expires_at; every process drops its cached copy."""
        record = await self.find(organization_id, key_id)
        if record.revoked_at is not None:
            raise ValidationError("a revoked key cannot be changed", param="id")
        values: dict[Any, Any] = {ApiKey.updated_at: datetime.now(UTC)}
        changed: list[str] = []
        if name is not _UNCHANGED:
            values[ApiKey.name] = _checked_name(name)
            changed.append("name")
        if allowed_models is not _UNCHANGED:
            values[ApiKey.allowed_models] = json.dumps(_checked_models(allowed_models))
            changed.append("allowed_models")
        if expires_at is not _UNCHANGED:
            values[ApiKey.expires_at] = _checked_expiry(expires_at)
            changed.append("expires_at")
        async with self._db().transaction():
            await ApiKey.update(values).where(ApiKey.id == record.id)
            await self._audit.record_as(
                context,
                "api_key.update",
                target=record.id,
                organization_id=record.organization_id,
                details={"changed": changed},
            )
        await self.announce_change(record.id)
        return await self.find(organization_id, record.id)

    async def announce_change(self, key_id: str) -> None:
        await self._state.publish(API_KEY_CHANGES_CHANNEL, key_id.encode())

    async def resolve(self, credential: str) -> Principal | None:
        """The in-process ``PrincipalResolver``: one indexed lookup by digest."""
        try:
            parse_api_key(credential)
        except ApiKeyFormatError:
            return None
        digest = key_digest(self._pepper, credential)
        row = await self._lookup(digest)
        if row is None and self._previous_peppers:
            row = await self._lookup_with_previous_peppers(credential, digest)
        if row is None:
            return None
        if row["revoked_at"] is not None:
            return None
        expires_at: datetime | None = row["expires_at"]
        if expires_at is not None and _aware(expires_at) <= datetime.now(UTC):
            return None
        return Principal(
            organization_id=str(row["organization"]),
            key_id=str(row["id"]),
            user_id=str(row["user"]) if row["user"] else None,
            name=row["name"],
            allowed_models=tuple(json.loads(row["allowed_models"])),
            expires_at=_aware(expires_at).timestamp() if expires_at else None,
        )

    async def _lookup(self, digest: str) -> dict[str, Any] | None:
        async with wrap_errors():
            row: dict[str, Any] | None = (
                await ApiKey.select().where(ApiKey.digest == digest).first()
            )
        if row is None or not hmac.compare_digest(row["digest"], digest):
            return None
        return row

    async def _lookup_with_previous_peppers(
        self, credential: str, current_digest: str
    ) -> dict[str, Any] | None:
        for pepper in self._previous_peppers:
            row = await self._lookup(key_digest(pepper, credential))
            if row is None:
                continue
            # Upgrade to the current pepper so the old one can be retired.
            async with wrap_errors():
                await ApiKey.update(
                    {ApiKey.digest: current_digest, ApiKey.pepper_id: pepper_id(self._pepper)}
                ).where(ApiKey.id == row["id"])
            log.info("API key %s re-digested under the current pepper", row["public_id"])
            return row
        return None

    async def pepper_status(self) -> dict[str, int]:
        """Live (unrevoked) keys per pepper: "current", "previous" or "unknown"."""
        current = pepper_id(self._pepper)
        previous = {pepper_id(p) for p in self._previous_peppers}
        async with wrap_errors():
            rows = await ApiKey.select(ApiKey.pepper_id).where(ApiKey.revoked_at.is_null())
        counts = {"current": 0, "previous": 0, "unknown": 0}
        for row in rows:
            if row["pepper_id"] == current:
                counts["current"] += 1
            elif row["pepper_id"] in previous:
                counts["previous"] += 1
            else:
                counts["unknown"] += 1
        return counts


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValidationError("name must not be empty", param="name")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(f"name may have at most {MAX_NAME_LENGTH} characters", param="name")
    return name


def _checked_models(models: Sequence[str]) -> list[str]:
    if len(models) > MAX_ALLOWED_MODELS:
        raise ValidationError(
            f"at most {MAX_ALLOWED_MODELS} allowed models", param="allowed_models"
        )
    cleaned = []
    for model in models:
        model = model.strip()
        if not model or len(model) > MAX_MODEL_NAME_LENGTH:
            raise ValidationError("model names must be 1-256 characters", param="allowed_models")
        cleaned.append(model)
    return list(dict.fromkeys(cleaned))


def _checked_expiry(expires_at: datetime | None) -> datetime | None:
    if expires_at is None:
        return None
    expires_at = _aware(expires_at)
    if expires_at <= datetime.now(UTC):
        raise ValidationError("expires_at must be in the future", param="expires_at")
    return expires_at


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _record(row: dict[str, Any]) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=str(row["id"]),
        organization_id=str(row["organization"]),
        user_id=str(row["user"]) if row["user"] else None,
        name=row["name"],
        prefix=f"{PREFIX}{row['public_id']}",
        allowed_models=json.loads(row["allowed_models"]),
        expires_at=_aware(row["expires_at"]) if row["expires_at"] else None,
        revoked_at=_aware(row["revoked_at"]) if row["revoked_at"] else None,
        created_at=_aware(row["created_at"]),
    )
