"""ApiKeyService: issue, list, update and revoke API keys.

Every change commits together with its audit record (``Changes.apply``); updates and
revocations are then announced on ``API_KEY_CHANGES_CHANNEL`` so each process'
principal cache drops the key at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from msgspec import UNSET, UnsetType

from inferia.contracts.principals import API_KEY_CHANGES_CHANNEL
from inferia.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from inferia.filtration.api_keys.format import PREFIX, generate_api_key
from inferia.filtration.api_keys.schemas import ApiKeyRecord, CreatedApiKey
from inferia.filtration.api_keys.store import ApiKeyStore
from inferia.filtration.audit import AuditContext
from inferia.filtration.changes import Change, Changes
from inferia.filtration.members import store as members

if TYPE_CHECKING:
    from inferia.filtration.access import Caller

MAX_NAME_LENGTH = 200
MAX_ALLOWED_MODELS = 256
MAX_MODEL_NAME_LENGTH = 256


class ApiKeyService:
    def __init__(self, store: ApiKeyStore, changes: Changes) -> None:
        self.store = store
        self._changes = changes

    async def create(
        self,
        context: AuditContext,
        organization_id: str,
        name: str,
        *,
        user_id: str | None = None,
        allowed_models: Sequence[str] = (),
        expires_at: datetime | None = None,
        caller: Caller | None = None,
        also: Callable[[ApiKeyRecord, Change], Awaitable[object]] | None = None,
    ) -> CreatedApiKey:
        """A new key; it acts for ``user_id`` (a member of the organisation) if given,
        else for whoever creates it (``context.actor_id``; none from the CLI).

        Over HTTP (``caller`` given), a key for someone else takes ``members:write``:
        it spends their limits and books usage to them. ``also``: more writes in the
        key's transaction (its own limits, from the CLI): a key never exists without them."""
        if (
            user_id is not None
            and caller is not None
            and user_id != caller.user_id
            and not caller.can("members:write")
        ):
            raise PermissionDeniedError(
                "creating a key for another member needs the members:write permission",
                param="user_id",
            )
        if user_id is not None and not await members.is_member(organization_id, user_id):
            raise NotFoundError("user not found", param="user_id")
        name = _checked_name(name)
        models = _checked_models(allowed_models)
        expires_at = _checked_expiry(expires_at)
        issued = generate_api_key()
        owner = user_id if user_id is not None else context.actor_id
        async with self._changes.apply(context) as change:
            record = await self.store.insert(
                issued,
                organization_id,
                name,
                user_id=owner,
                allowed_models=models,
                expires_at=expires_at,
            )
            change.audit(
                "api_key.create",
                target=record.id,
                organization_id=organization_id,
                details={
                    "name": name,
                    "key_prefix": f"{PREFIX}{issued.public_id}",
                    "user_id": owner,
                },
            )
            if also is not None:
                await also(record, change)
        return CreatedApiKey(record=record, key=issued.plaintext)

    async def list(
        self, organization_id: str, *, include_revoked: bool = False
    ) -> list[ApiKeyRecord]:
        return await self.store.list(organization_id, include_revoked=include_revoked)

    async def find(self, organization_id: str | None, id_or_prefix: str) -> ApiKeyRecord:
        """A key by id or public id. A key of another organisation is "not found",
        exactly like a missing one."""
        record = await self.store.find(organization_id, id_or_prefix)
        if record is None:
            raise NotFoundError("API key not found")
        return record

    async def revoke(
        self, context: AuditContext, organization_id: str | None, id_or_prefix: str
    ) -> ApiKeyRecord:
        record = await self.find(organization_id, id_or_prefix)
        async with self._changes.apply(context) as change:
            if record.revoked_at is None:
                await self.store.set_revoked(record.id)
            change.audit(
                "api_key.revoke",
                target=record.id,
                organization_id=record.organization_id,
                details={"name": record.name, "key_prefix": record.prefix},
            )
            change.announce(API_KEY_CHANGES_CHANNEL, record.id)
        return await self.find(organization_id, record.id)

    async def update(
        self,
        context: AuditContext,
        organization_id: str,
        key_id: str,
        *,
        name: str | UnsetType = UNSET,
        allowed_models: Sequence[str] | UnsetType = UNSET,
        expires_at: datetime | UnsetType | None = UNSET,
    ) -> ApiKeyRecord:
        """Change name, allowed_models or expires_at; every process drops its cached copy."""
        record = await self.find(organization_id, key_id)
        if record.revoked_at is not None:
            raise ValidationError("a revoked key cannot be changed", param="id")
        values: dict[str, Any] = {}
        if not isinstance(name, UnsetType):
            values["name"] = _checked_name(name)
        if not isinstance(allowed_models, UnsetType):
            values["allowed_models"] = _checked_models(allowed_models)
        if not isinstance(expires_at, UnsetType):
            values["expires_at"] = _checked_expiry(expires_at)
        async with self._changes.apply(context) as change:
            await self.store.update(record.id, values)
            change.audit(
                "api_key.update",
                target=record.id,
                organization_id=record.organization_id,
                details={"changed": list(values)},
            )
            change.announce(API_KEY_CHANGES_CHANNEL, record.id)
        return await self.find(organization_id, record.id)


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
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    if expires_at <= datetime.now(UTC):
        raise ValidationError("expires_at must be in the future", param="expires_at")
    return expires_at
