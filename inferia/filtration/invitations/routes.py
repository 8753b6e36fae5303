"""``/management/members/invitations`` (invite, list, revoke) and
``/auth/accept-invite`` (public: the token is the credential)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter

from inferia.filtration.access import Caller, audit_context, requires
from inferia.filtration.invitations.schemas import (
    AcceptedInvitation,
    AcceptInviteRequest,
    CreatedInvitation,
    InvitationCreate,
    InvitationRecord,
)
from inferia.filtration.invitations.service import InvitationService
from inferia.filtration.schemas import Page

Id = Annotated[str, PathParameter(max_length=64)]


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


def accept_invitation_controller(invitations: InvitationService) -> type[Controller]:
    class AcceptInvitationController(Controller):
        path = "/auth"
        tags = ["auth"]

        @post("/accept-invite", status_code=200)
        async def accept_invite(
            self, request: Request[Any, Any, Any], data: JSONBody[AcceptInviteRequest]
        ) -> AcceptedInvitation:
            return await invitations.accept(
                data.token, data.password, audit_context(request), totp=data.totp
            )

    return AcceptInvitationController
