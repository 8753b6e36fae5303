"""``/admin/users``, ``/admin/roles``, ``/admin/permissions`` and
``/management/members/invitations``: members, roles and invitations of the caller's
organisation."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter

from inferia.filtration.access import Caller, requires
from inferia.filtration.identity.invitations import (
    CreatedInvitation,
    InvitationRecord,
    InvitationService,
)
from inferia.filtration.identity.members import MemberRecord, MemberService
from inferia.filtration.identity.roles import RoleRecord, RoleService
from inferia.filtration.identity.roles_catalogue import ALL_PERMISSIONS
from inferia.filtration.management.api_keys import audit_context
from inferia.filtration.management.schemas import (
    InvitationCreate,
    Page,
    RoleCreate,
    RoleUpdate,
    UserCreate,
    UserUpdate,
    provided,
)

Id = Annotated[str, PathParameter(max_length=64)]


class PermissionCatalogue(msgspec.Struct, frozen=True, kw_only=True):
    permissions: list[str]


def users_controller(members: MemberService) -> type[Controller]:
    class UsersController(Controller):
        path = "/admin/users"
        tags = ["admin"]

        @get("/", guards=[requires("members:read")])
        async def list_users(self, caller: NamedDependency[Caller]) -> Page[MemberRecord]:
            return Page(data=await members.list(caller.organization_id))

        @post("/", guards=[requires("members:write")], status_code=201)
        async def create_user(
            self,
            request: Request[Any, Any, Any],
            caller: NamedDependency[Caller],
            data: JSONBody[UserCreate],
        ) -> MemberRecord:
            return await members.create(
                caller, audit_context(request, caller), data.email, data.password, data.role
            )

        @get("/{user_id:str}", guards=[requires("members:read")])
        async def get_user(self, caller: NamedDependency[Caller], user_id: Id) -> MemberRecord:
            return await members.get(caller.organization_id, user_id)

        @patch("/{user_id:str}", guards=[requires("members:write")])
        async def update_user(
            self,
            request: Request[Any, Any, Any],
            caller: NamedDependency[Caller],
            data: JSONBody[UserUpdate],
            user_id: Id,
        ) -> MemberRecord:
            changes: Any = provided(
                role=data.role, active=data.active, account_active=data.account_active
            )
            return await members.update(caller, audit_context(request, caller), user_id, **changes)

        @delete("/{user_id:str}", guards=[requires("members:write")], status_code=204)
        async def remove_user(
            self, request: Request[Any, Any, Any], caller: NamedDependency[Caller], user_id: Id
        ) -> None:
            await members.remove(caller, audit_context(request, caller), user_id)

    return UsersController


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


def invitations_controller(invitations: InvitationService) -> type[Controller]:
    class InvitationsController(Controller):
        path = "/management/members/invitations"
        tags = ["members"]

        @post("/", guards=[requires("members:write")], status_code=201)
        async def create_invitation(
            self,
            request: Request[Any, Any, Any],
            caller: NamedDependency[Caller],
            data: JSONBody[InvitationCreate],
        ) -> CreatedInvitation:
            return await invitations.create(
                caller, audit_context(request, caller), data.email, data.role, data.ttl_s
            )

        @get("/", guards=[requires("members:read")])
        async def list_invitations(self, caller: NamedDependency[Caller]) -> Page[InvitationRecord]:
            return Page(data=await invitations.list(caller.organization_id))

        @delete("/{invitation_id:str}", guards=[requires("members:write")], status_code=204)
        async def revoke_invitation(
            self,
            request: Request[Any, Any, Any],
            caller: NamedDependency[Caller],
            invitation_id: Id,
        ) -> None:
            await invitations.revoke(caller, audit_context(request, caller), invitation_id)

    return InvitationsController
