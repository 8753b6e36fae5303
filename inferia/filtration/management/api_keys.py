"""``/management/api-keys``: issue (the key is shown once), list, read, update, revoke."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, PathParameter

from inferia.core.errors import NotFoundError
from inferia.db.errors import wrap_errors
from inferia.filtration.access import Caller, requires
from inferia.filtration.audit import AuditContext
from inferia.filtration.identity.tables import Membership
from inferia.filtration.keys.store import ApiKeyRecord, ApiKeyStore
from inferia.filtration.management.schemas import ApiKeyCreate, ApiKeyUpdate, Page, provided

KeyId = Annotated[str, PathParameter(max_length=64)]


class CreatedKey(msgspec.Struct, frozen=True, kw_only=True):
    key: str  # shown exactly once
    api_key: ApiKeyRecord


def audit_context(request: Request[Any, Any, Any], caller: Caller) -> AuditContext:
    return AuditContext.of(request, actor_id=caller.user_id, organization_id=caller.organization_id)


def api_keys_controller(store: ApiKeyStore) -> type[Controller]:
    class ApiKeysController(Controller):
        path = "/management/api-keys"
        tags = ["api keys"]

        @post("/", guards=[requires("api_keys:write")], status_code=201)
        async def create_key(
            self,
            request: Request[Any, Any, Any],
            caller: NamedDependency[Caller],
            data: JSONBody[ApiKeyCreate],
        ) -> CreatedKey:
            user_id = data.user_id or caller.user_id
            if data.user_id is not None:
                await _ensure_member(caller.organization_id, data.user_id)
            created = await store.create(
                audit_context(request, caller),
                caller.organization_id,
                data.name,
                user_id=user_id,
                allowed_models=data.allowed_models,
                expires_at=data.expires_at,
            )
            return CreatedKey(key=created.key, api_key=created.record)

        @get("/", guards=[requires("api_keys:read")])
        async def list_keys(
            self, caller: NamedDependency[Caller], include_revoked: FromQuery[bool] = False
        ) -> Page[ApiKeyRecord]:
            return Page(
                data=await store.list(caller.organization_id, include_revoked=include_revoked)
            )

        @get("/{key_id:str}", guards=[requires("api_keys:read")])
        async def get_key(self, caller: NamedDependency[Caller], key_id: KeyId) -> ApiKeyRecord:
            return await store.find(caller.organization_id, key_id)

        @patch("/{key_id:str}", guards=[requires("api_keys:write")])
        async def update_key(
            self,
            request: Request[Any, Any, Any],
            caller: NamedDependency[Caller],
            data: JSONBody[ApiKeyUpdate],
            key_id: KeyId,
        ) -> ApiKeyRecord:
            changes: Any = provided(
                name=data.name, allowed_models=data.allowed_models, expires_at=data.expires_at
            )
            return await store.update(
                audit_context(request, caller), caller.organization_id, key_id, **changes
            )

        @delete("/{key_id:str}", guards=[requires("api_keys:write")], status_code=200)
        async def revoke_key(
            self,
            request: Request[Any, Any, Any],
            caller: NamedDependency[Caller],
            key_id: KeyId,
        ) -> ApiKeyRecord:
            return await store.revoke(
                audit_context(request, caller), caller.organization_id, key_id
            )

    return ApiKeysController


async def _ensure_member(organization_id: str, user_id: str) -> None:
    try:
        uuid.UUID(user_id)
    except ValueError:
        raise NotFoundError("user not found", param="user_id") from None
    async with wrap_errors():
        member = await Membership.exists().where(
            (Membership.organization == organization_id) & (Membership.user == user_id)
        )
    if not member:
        raise NotFoundError("user not found", param="user_id")
