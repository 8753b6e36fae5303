"""Members of an organisation: users with a role in it (``/admin/users``).

Everything is scoped to one organisation: a user who is not a member of the
caller's organisation is "not found". Disabling a member disables the membership
(the account may belong to other organisations); a platform operator can disable
the account itself. An organisation always keeps at least one active owner.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec

from inferia.core.errors import (
    ConflictError,
    IntegrityViolation,
    NotFoundError,
    PermissionDeniedError,
)
from inferia.db.errors import wrap_errors
from inferia.filtration.audit import AuditContext, AuditTrail
from inferia.filtration.identity import sessions
from inferia.filtration.identity.bootstrap import validate_email, validate_password
from inferia.filtration.identity.passwords import PasswordHasher
from inferia.filtration.identity.roles import RoleService, check_grantable
from inferia.filtration.identity.roles_catalogue import OWNER_ROLE
from inferia.filtration.identity.tables import Membership, User

if TYPE_CHECKING:
    from inferia.db import Database
    from inferia.filtration.access import Caller

_UNCHANGED: Any = object()


class MemberRecord(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    email: str
    role: str
    role_id: str
    active: bool
    account_active: bool
    totp_enabled: bool
    joined_at: datetime


class MemberService:
    def __init__(
        self,
        database: Database,
        hasher: PasswordHasher,
        roles: RoleService,
        audit: AuditTrail,
        password_min_length: int,
    ) -> None:
        self._database = database
        self._hasher = hasher
        self._roles = roles
        self._audit = audit
        self._password_min_length = password_min_length

    async def list(self, organization_id: str) -> list[MemberRecord]:
        async with wrap_errors():
            rows = await _member_query().where(Membership.organization == organization_id)
        return [_member(row) for row in rows]

    async def get(self, organization_id: str, user_id: str) -> MemberRecord:
        if not _is_uuid(user_id):
            raise NotFoundError("user not found")
        async with wrap_errors():
            row = (
                await _member_query()
                .where((Membership.organization == organization_id) & (Membership.user == user_id))
                .first()
            )
        if row is None:
            raise NotFoundError("user not found")
        return _member(row)

    async def create(
        self, caller: Caller, context: AuditContext, email: str, password: str, role_ref: str
    ) -> MemberRecord:
        email = validate_email(email)
        validate_password(password, email, self._password_min_length)
        role = await self._roles.get(caller.organization_id, role_ref)
        check_grantable(caller, role.name, role.permissions)
        async with wrap_errors():
            if await User.exists().where(User.email == email):
                raise ConflictError(
                    "a user with this e-mail already exists; invite them instead", param="email"
                )
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        user = User(email=email, password_hash=password_hash)
        try:
            async with self._database.transaction():
                await user.save()
                await Membership(
                    user=user.id, organization=caller.organization_id, role=role.id
                ).save()
                await self._audit.record_as(
                    context,
                    "user.create",
                    target=str(user.id),
                    details={"email": email, "role": role.name},
                )
        except IntegrityViolation:
            raise ConflictError("a user with this e-mail already exists", param="email") from None
        return await self.get(caller.organization_id, str(user.id))

    async def update(
        self,
        caller: Caller,
        context: AuditContext,
        user_id: str,
        *,
        role: str = _UNCHANGED,
        active: bool = _UNCHANGED,
        account_active: bool = _UNCHANGED,
    ) -> MemberRecord:
        member = await self.get(caller.organization_id, user_id)
        # Changing an owner's standing takes an owner; so does any change to a role.
        current = await self._roles.get(caller.organization_id, member.role_id)
        check_grantable(caller, current.name, current.permissions)
        membership: dict[Any, Any] = {}
        details: dict[str, Any] = {}
        new_role = None
        if role is not _UNCHANGED:
            new_role = await self._roles.get(caller.organization_id, role)
            check_grantable(caller, new_role.name, new_role.permissions)
            membership[Membership.role] = new_role.id
            details["role"] = new_role.name
        if active is not _UNCHANGED:
            membership[Membership.is_active] = active
            details["active"] = active
        if account_active is not _UNCHANGED:
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
        async with self._database.transaction():
            if loses_owner:
                await _keep_an_owner(caller.organization_id, member.user_id)
            if membership:
                await Membership.update(membership).where(
                    (Membership.organization == caller.organization_id)
                    & (Membership.user == member.user_id)
                )
            if account_active is not _UNCHANGED:
                await User.update({User.is_active: account_active}).where(User.id == member.user_id)
            if active is False:
                await sessions.revoke_user_sessions(
                    member.user_id, "membership_disabled", caller.organization_id
                )
            if account_active is False:
                await sessions.revoke_user_sessions(member.user_id, "account_disabled")
            await self._audit.record_as(
                context, "user.update", target=member.user_id, details=details
            )
        return await self.get(caller.organization_id, member.user_id)

    async def remove(self, caller: Caller, context: AuditContext, user_id: str) -> None:
        member = await self.get(caller.organization_id, user_id)
        current = await self._roles.get(caller.organization_id, member.role_id)
        check_grantable(caller, current.name, current.permissions)
        async with self._database.transaction():
            if member.role == OWNER_ROLE:
                await _keep_an_owner(caller.organization_id, member.user_id)
            await Membership.delete().where(
                (Membership.organization == caller.organization_id)
                & (Membership.user == member.user_id)
            )
            await sessions.revoke_user_sessions(
                member.user_id, "membership_removed", caller.organization_id
            )
            await self._audit.record_as(
                context, "user.remove", target=member.user_id, details={"email": member.email}
            )


async def _keep_an_owner(organization_id: str, leaving_user_id: str) -> None:
    others = await Membership.count().where(
        (Membership.organization == organization_id)
        & (Membership.user != leaving_user_id)
        & (Membership.is_active == True)  # noqa: E712
        & (Membership.role.name == OWNER_ROLE)
        & Membership.role.organization.is_null()
    )
    if not others:
        raise ConflictError("an organisation must keep at least one active owner")


def _member_query() -> Any:
    return Membership.select(
        Membership.user,
        Membership.user.email,
        Membership.user.is_active,
        Membership.user.totp_enabled,
        Membership.role,
        Membership.role.name,
        Membership.is_active,
        Membership.created_at,
    ).order_by(Membership.created_at)


def _member(row: dict[str, Any]) -> MemberRecord:
    joined: datetime = row["created_at"]
    return MemberRecord(
        user_id=str(row["user"]),
        email=row["user.email"],
        role=row["role.name"],
        role_id=str(row["role"]),
        active=bool(row["is_active"]),
        account_active=bool(row["user.is_active"]),
        totp_enabled=bool(row["user.totp_enabled"]),
        joined_at=joined if joined.tzinfo else joined.replace(tzinfo=UTC),
    )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
