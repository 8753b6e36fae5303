"""``/admin/roles`` and ``/admin/permissions``: the roles of the caller's organisation."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter

from inferia.filtration.access import Caller, audit_context, requires
from inferia.filtration.roles.catalogue import ALL_PERMISSIONS
from inferia.filtration.roles.schemas import (
    PermissionCatalogue,
    RoleCreate,
    RoleRecord,
    RoleUpdate,
)
from inferia.filtration.roles.service import RoleService
from inferia.filtration.schemas import Page, provided

Id = Annotated[str, PathParameter(max_length=64)]


def roles_controller(roles: RoleService) -> type[Controller]:
    class RolesController(Controller):
        path = "/admin"
        tags = ["admin"]

        @get("/permissions", guards=[requires("roles:read")])
        async def list_permissions(self) -> PermissionCatalogue:
            return PermissionCatalogue(permissions=sorted(ALL_PERMISSIONS))

        @get("/roles", guards=[requires("roles:read")])
        async def list_roles(self, caller: NamedDependency[Caller]) -> Page[RoleRecord]:
            return Page(data=await roles.list(caller.organization_id))

        @post("/roles", guards=[requires("roles:write")], status_code=201)
        async def create_role(
            self,
            request: Request[Any, Any, Any],
            caller: NamedDependency[Caller],
            data: JSONBody[RoleCreate],
        ) -> RoleRecord:
            return await roles.create(
                caller, audit_context(request, caller), data.name, data.permissions
            )

        @get("/roles/{role_id:str}", guards=[requires("roles:read")])
        async def get_role(self, caller: NamedDependency[Caller], role_id: Id) -> RoleRecord:
            return await roles.get(caller.organization_id, role_id)

        @patch("/roles/{role_id:str}", guards=[requires("roles:write")])
        async def update_role(
            self,
            request: Request[Any, Any, Any],
            caller: NamedDependency[Caller],
            data: JSONBody[RoleUpdate],
            role_id: Id,
        ) -> RoleRecord:
            changes: Any = provided(name=data.name, permissions=data.permissions)
            return await roles.update(caller, audit_context(request, caller), role_id, **changes)

        @delete("/roles/{role_id:str}", guards=[requires("roles:write")], status_code=204)
        async def delete_role(
            self, request: Request[Any, Any, Any], caller: NamedDependency[Caller], role_id: Id
        ) -> None:
            await roles.delete(caller, audit_context(request, caller), role_id)

    return RolesController
