"""``/management/api-keys``: issue (the key is shown once), list, read, update, revoke."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, PathParameter

from inferia.filtration.access import Caller, audit_context, requires
from inferia.filtration.api_keys.schemas import ApiKeyCreate, ApiKeyRecord, ApiKeyUpdate, CreatedKey
from inferia.filtration.api_keys.service import ApiKeyService
from inferia.filtration.schemas import Page, provided

KeyId = Annotated[str, PathParameter(max_length=64)]


def api_keys_controller(api_keys: ApiKeyService) -> type[Controller]:
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
            created = await api_keys.create(
                audit_context(request, caller),
                caller.organization_id,
                data.name,
                user_id=data.user_id,
                allowed_models=data.allowed_models,
                expires_at=data.expires_at,
                caller=caller,
            )
            return CreatedKey(key=created.key, api_key=created.record)

        @get("/", guards=[requires("api_keys:read")])
        async def list_keys(
            self, caller: NamedDependency[Caller], include_revoked: FromQuery[bool] = False
        ) -> Page[ApiKeyRecord]:
            return Page(
                data=await api_keys.list(caller.organization_id, include_revoked=include_revoked)
            )

        @get("/{key_id:str}", guards=[requires("api_keys:read")])
        async def get_key(self, caller: NamedDependency[Caller], key_id: KeyId) -> ApiKeyRecord:
            return await api_keys.find(caller.organization_id, key_id)

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
            return await api_keys.update(
                audit_context(request, caller), caller.organization_id, key_id, **changes
            )

        @delete("/{key_id:str}", guards=[requires("api_keys:write")], status_code=200)
        async def revoke_key(
            self,
            request: Request[Any, Any, Any],
            caller: NamedDependency[Caller],
            key_id: KeyId,
        ) -> ApiKeyRecord:
            return await api_keys.revoke(
                audit_context(request, caller), caller.organization_id, key_id
            )

    return ApiKeysController
