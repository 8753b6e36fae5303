"""``/admin/users``: the members of the caller's organisation."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter

from inferia.filtration.access import Caller, audit_context, requires
from inferia.filtration.members.schemas import MemberRecord, UserCreate, UserUpdate
from inferia.filtration.members.service import MemberService
from inferia.filtration.schemas import Page, provided

Id = Annotated[str, PathParameter(max_length=64)]


def members_controller(members: MemberService) -> type[Controller]:
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
