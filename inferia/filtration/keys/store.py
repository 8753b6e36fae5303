"""ApiKeyStore: issue, list, update, revoke and verify API keys.

Every change is announced on ``API_KEY_CHANGES_CHANNEL`` so each process' principal
cache drops the key at once; verification itself is the in-process
``PrincipalResolver`` that the cache sits in front of.
"""

from __future__ import annotations

import hmac
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

from inferia.core.errors import NotFoundError, ValidationError
from inferia.db.errors import wrap_errors
from inferia.filtration.keys.format import (
    ApiKeyFormatError,
    generate_api_key,
    key_digest,
    parse_api_key,
)
from inferia.filtration.keys.tables import ApiKey
from inferia.filtration.ports import API_KEY_CHANGES_CHANNEL, Principal
from inferia.state import StateBackend


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
    def __init__(self, state: StateBackend, pepper: str) -> None:
        self._state = state
        self._pepper = pepper.encode()

    async def create(
        self,
        organization_id: str,
        name: str,
        *,
        user_id: str | None = None,
        allowed_models: Sequence[str] = (),
        expires_at: datetime | None = None,
    ) -> CreatedApiKey:
        if not name.strip():
            raise ValidationError("name must not be empty", param="name")
        if expires_at is not None and expires_at <= datetime.now(UTC):
            raise ValidationError("expires_at must be in the future", param="expires_at")
        issued = generate_api_key()
        row = ApiKey(
            id=uuid.uuid4(),
            organization=organization_id,
            user=user_id,
            name=name.strip(),
            public_id=issued.public_id,
            digest=key_digest(self._pepper, issued.plaintext),
            allowed_models=json.dumps(list(allowed_models)),
            expires_at=expires_at,
        )
        async with wrap_errors():
            await row.save()
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
        """A key by id or by public id (the part after ``sk-inf-``); org-scoped if given."""
        public_id = id_or_prefix.removeprefix("sk-inf-").split("-", 1)[0]
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

    async def revoke(self, organization_id: str | None, id_or_prefix: str) -> ApiKeyRecord:
        record = await self.find(organization_id, id_or_prefix)
        if record.revoked_at is None:
            async with wrap_errors():
                await ApiKey.update(
                    {ApiKey.revoked_at: datetime.now(UTC), ApiKey.updated_at: datetime.now(UTC)}
                ).where(ApiKey.id == record.id)
        await self.announce_change(record.id)
        return await self.find(organization_id, record.id)

    async def update(self, organization_id: str, key_id: str, **changes: Any) -> ApiKeyRecord:
        """Change name, allowed_models or expires_at; every process drops its cached copy."""
        await self.find(organization_id, key_id)
        values: dict[Any, Any] = {ApiKey.updated_at: datetime.now(UTC)}
        if "name" in changes:
            values[ApiKey.name] = str(changes["name"]).strip()
        if "allowed_models" in changes:
            values[ApiKey.allowed_models] = json.dumps(list(changes["allowed_models"]))
        if "expires_at" in changes:
            values[ApiKey.expires_at] = changes["expires_at"]
        async with wrap_errors():
            await ApiKey.update(values).where(ApiKey.id == key_id)
        await self.announce_change(key_id)
        return await self.find(organization_id, key_id)

    async def announce_change(self, key_id: str) -> None:
        await self._state.publish(API_KEY_CHANGES_CHANNEL, key_id.encode())

    async def resolve(self, credential: str) -> Principal | None:
        """The in-process ``PrincipalResolver``: one indexed lookup by digest."""
        try:
            parse_api_key(credential)
        except ApiKeyFormatError:
            return None
        digest = key_digest(self._pepper, credential)
        async with wrap_errors():
            row = await ApiKey.select().where(ApiKey.digest == digest).first()
        if row is None or not hmac.compare_digest(row["digest"], digest):
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
        prefix=f"sk-inf-{row['public_id']}",
        allowed_models=json.loads(row["allowed_models"]),
        expires_at=_aware(row["expires_at"]) if row["expires_at"] else None,
        revoked_at=_aware(row["revoked_at"]) if row["revoked_at"] else None,
        created_at=_aware(row["created_at"]),
    )
