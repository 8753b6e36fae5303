"""Members of an organisation: users with a role in it (``/admin/users``).

Everything is scoped to one organisation: a user who is not a member of the
caller's organisation is "not found". Disabling a member disables the membership
(the account may belong to other organisations); a platform operator can disable
the account itself. An organisation always keeps at least one active owner.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from msgspec import UNSET, UnsetType

from inferia.contracts.principals import API_KEY_CHANGES_CHANNEL
from inferia.core.errors import (
    ConflictError,
    IntegrityViolation,
    NotFoundError,
    PermissionDeniedError,
)
from inferia.filtration.api_keys import store as api_keys
from inferia.filtration.audit import AuditContext
from inferia.filtration.changes import Change, Changes
from inferia.filtration.identity import store as accounts
from inferia.filtration.identity.bootstrap import validate_email, validate_password
from inferia.filtration.identity.passwords import PasswordHasher
from inferia.filtration.members import store
from inferia.filtration.members.schemas import MemberRecord
from inferia.filtration.members.tables import Membership
from inferia.filtration.roles.catalogue import OWNER_ROLE
from inferia.filtration.roles.service import RoleService, check_grantable

if TYPE_CHECKING:
    from inferia.filtration.access import Caller


class MemberService:
    def __init__(
        self,
        changes: Changes,
        hasher: PasswordHasher,
        roles: RoleService,
        password_min_length: int,
    ) -> None:
        self._changes = changes
        self._hasher = hasher
        self._roles = roles
        self._password_min_length = password_min_length

    async def list(self, organization_id: str) -> list[MemberRecord]:
        return await store.list_members(organization_id)

    async def get(self, organization_id: str, user_id: str) -> MemberRecord:
        member = await store.find(organization_id, user_id)
        if member is None:
            raise NotFoundError("user not found")
        return member

    async def user_id_of(self, email: str) -> str:
        """An account's id by e-mail (the CLI names members by e-mail)."""
        user_id = await accounts.user_id_by_email(email.lower())
        if user_id is None:
            raise NotFoundError(f"no user with e-mail {email!r}")
        return user_id

    async def create(
        self, caller: Caller, context: AuditContext, email: str, password: str, role_ref: str
    ) -> MemberRecord:
        if not caller.is_superuser:
            # Refused before anything is looked up: whether an address has an account
            # (maybe in another organisation) is no business of an organisation admin,
            # nor is choosing the password of an account that would claim an address.
            raise PermissionDeniedError(
                "accounts are created by platform operators; invite the person instead "
                "(POST /management/members/invitations)"
            )
        email = validate_email(email)
        validate_password(password, email, self._password_min_length)
        role = await self._roles.get(caller.organization_id, role_ref)
        check_grantable(caller, role.name, role.permissions)
        if await store.email_taken(email):
            raise ConflictError(
                "a user with this e-mail already exists; invite them instead", param="email"
            )
        # argon2 (~0.3 s) before the transaction: on SQLite it holds the one write lock.
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        try:
            async with self._changes.apply(context) as change:
                user_id = await store.insert_account(
                    email, password_hash, caller.organization_id, role.id
                )
                change.audit(
                    "user.create", target=user_id, details={"email": email, "role": role.name}
                )
        except IntegrityViolation:
            raise ConflictError("a user with this e-mail already exists", param="email") from None
        return await self.get(caller.organization_id, user_id)

    async def verify_email(self, context: AuditContext, email: str) -> str:
        """An operator vouches that the account's person controls its address."""
        user_id = await self.user_id_of(email)
        async with self._changes.apply(context) as change:
            await store.set_email_verified(user_id)
            change.audit("user.verify_email", target=user_id, details={"email": email.lower()})
        return user_id

    async def update(
        self,
        caller: Caller,
        context: AuditContext,
        user_id: str,
        *,
        role: str | UnsetType = UNSET,
        active: bool | UnsetType = UNSET,
        account_active: bool | UnsetType = UNSET,
    ) -> MemberRecord:
        member = await self.get(caller.organization_id, user_id)
        # Changing an owner's standing takes an owner; so does any change to a role.
        current = await self._roles.get(caller.organization_id, member.role_id)
        check_grantable(caller, current.name, current.permissions)
        membership: dict[Any, Any] = {}
        details: dict[str, Any] = {}
        new_role = None
        if not isinstance(role, UnsetType):
            new_role = await self._roles.get(caller.organization_id, role)
            check_grantable(caller, new_role.name, new_role.permissions)
            membership[Membership.role] = new_role.id
            details["role"] = new_role.name
        if not isinstance(active, UnsetType):
            membership[Membership.is_active] = active
            details["active"] = active
        if not isinstance(account_active, UnsetType):
            if not caller.is_superuser:
                raise PermissionDeniedError("only a platform operator can disable an account")
            details["account_active"] = account_active
        if not details:
            return member
        loses_owner = member.role == OWNER_ROLE and (
            (new_role is not None and new_role.name != OWNER_ROLE)
            or active is False
            or account_active is False
        )
        async with self._changes.apply(context) as change:
            if loses_owner:
                await _keep_an_owner(caller.organization_id, member.user_id)
            if membership:
                await store.update(caller.organization_id, member.user_id, membership)
            if not isinstance(account_active, UnsetType):
                await store.set_account_active(member.user_id, account_active)
            if active is False:
                await accounts.revoke_user_sessions(
                    member.user_id, "membership_disabled", caller.organization_id
                )
                await _stop_keys(change, member.user_id, caller.organization_id)
            if account_active is False:
                await accounts.revoke_user_sessions(member.user_id, "account_disabled")
                await _stop_keys(change, member.user_id)
            change.audit("user.update", target=member.user_id, details=details)
        return await self.get(caller.organization_id, member.user_id)

    async def remove(self, caller: Caller, context: AuditContext, user_id: str) -> None:
        member = await self.get(caller.organization_id, user_id)
        current = await self._roles.get(caller.organization_id, member.role_id)
        check_grantable(caller, current.name, current.permissions)
        async with self._changes.apply(context) as change:
            if member.role == OWNER_ROLE:
                await _keep_an_owner(caller.organization_id, member.user_id)
            await store.delete(caller.organization_id, member.user_id)
            await accounts.revoke_user_sessions(
                member.user_id, "membership_removed", caller.organization_id
            )
            await _stop_keys(change, member.user_id, caller.organization_id)
            await api_keys.revoke_owned_by(member.user_id, caller.organization_id)
            change.audit("user.remove", target=member.user_id, details={"email": member.email})


async def _stop_keys(change: Change, user_id: str, organization_id: str | None = None) -> None:
    """Make every process drop the person's cached keys. The key store refuses a key
    whose person may no longer act in its organisation; this makes it immediate."""
    for key_id in await api_keys.live_key_ids(user_id, organization_id):
        change.announce(API_KEY_CHANGES_CHANNEL, key_id)


async def _keep_an_owner(organization_id: str, leaving_user_id: str) -> None:
    if not await store.other_active_owners(organization_id, leaving_user_id):
        raise ConflictError("an organisation must keep at least one active owner")
