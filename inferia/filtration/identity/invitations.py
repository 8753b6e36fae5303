"""Invitations to join an organisation: single use, expiring, stored as a digest.

The token (``inv_`` + 256 random bits) is shown once to the inviter, who passes it
on. Accepting creates the account (new e-mail) or, for an existing account, asks
for its password; the invitation is claimed with a conditional UPDATE, so it works
exactly once even when two requests race.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import msgspec

from inferia.core.errors import (
    AuthenticationError,
    ConflictError,
    IntegrityViolation,
    NotFoundError,
    ValidationError,
)
from inferia.db.errors import wrap_errors
from inferia.filtration.audit import AuditContext, AuditTrail
from inferia.filtration.identity.bootstrap import validate_email, validate_password
from inferia.filtration.identity.passwords import PasswordHasher
from inferia.filtration.identity.roles import RoleService, check_grantable
from inferia.filtration.identity.schemas import AcceptedInvitation
from inferia.filtration.identity.tables import Invitation, Membership, User
from inferia.filtration.identity.throttle import LoginThrottle

if TYPE_CHECKING:
    from inferia.config import AuthSettings
    from inferia.db import Database
    from inferia.filtration.access import Caller

TOKEN_PREFIX = "inv_"
MAX_TTL_S = 30 * 24 * 3600


class InvitationRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    organization_id: str
    email: str
    role: str
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime


class CreatedInvitation(msgspec.Struct, frozen=True, kw_only=True):
    invitation: InvitationRecord
    token: str  # shown once


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationService:
    def __init__(
        self,
        database: Database,
        hasher: PasswordHasher,
        roles: RoleService,
        audit: AuditTrail,
        throttle: LoginThrottle,
        auth: AuthSettings,
    ) -> None:
        self._database = database
        self._hasher = hasher
        self._roles = roles
        self._audit = audit
        self._throttle = throttle
        self._default_ttl_s = auth.invitation_ttl_s
        self._password_min_length = auth.password_min_length

    async def create(
        self,
        caller: Caller,
        context: AuditContext,
        email: str,
        role_ref: str,
        ttl_s: int | None = None,
    ) -> CreatedInvitation:
        email = validate_email(email)
        ttl = self._default_ttl_s if ttl_s is None else ttl_s
        if not 60 <= ttl <= MAX_TTL_S:
            raise ValidationError(f"ttl_s must be between 60 and {MAX_TTL_S}", param="ttl_s")
        role = await self._roles.get(caller.organization_id, role_ref)
        check_grantable(caller, role.name, role.permissions)
        async with wrap_errors():
            already = await Membership.exists().where(
                (Membership.organization == caller.organization_id)
                & (Membership.user.email == email)
            )
        if already:
            raise ConflictError("this person is already a member", param="email")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = Invitation(
            id=uuid.uuid4(),
            organization=caller.organization_id,
            email=email,
            role=role.id,
            digest=_digest(token),
            invited_by=caller.user_id or None,
            expires_at=datetime.now(UTC) + timedelta(seconds=ttl),
        )
        async with self._database.transaction():
            await row.save()
            await self._audit.record_as(
                context,
                "invitation.create",
                target=str(row.id),
                details={"email": email, "role": role.name},
            )
        return CreatedInvitation(
            invitation=await self.get(caller.organization_id, str(row.id)), token=token
        )

    async def list(self, organization_id: str) -> list[InvitationRecord]:
        async with wrap_errors():
            rows = await _query().where(Invitation.organization == organization_id)
        return [_record(row) for row in rows]

    async def get(self, organization_id: str, invitation_id: str) -> InvitationRecord:
        try:
            uuid.UUID(invitation_id)
        except ValueError:
            raise NotFoundError("invitation not found") from None
        async with wrap_errors():
            row = (
                await _query()
                .where(
                    (Invitation.organization == organization_id) & (Invitation.id == invitation_id)
                )
                .first()
            )
        if row is None:
            raise NotFoundError("invitation not found")
        return _record(row)

    async def revoke(self, caller: Caller, context: AuditContext, invitation_id: str) -> None:
        record = await self.get(caller.organization_id, invitation_id)
        if record.accepted_at is not None:
            raise ConflictError("the invitation was already accepted")
        async with self._database.transaction():
            await Invitation.update({Invitation.revoked_at: datetime.now(UTC)}).where(
                Invitation.id == record.id
            )
            await self._audit.record_as(context, "invitation.revoke", target=record.id)

    async def accept(self, token: str, password: str, context: AuditContext) -> AcceptedInvitation:
        async with wrap_errors():
            row = (
                await _query(Invitation.role.permissions)
                .where(Invitation.digest == _digest(token))
                .first()
            )
        if row is None:
            raise NotFoundError("invitation not found", param="token")
        record = _record(row)
        if record.accepted_at or record.revoked_at or record.expires_at <= datetime.now(UTC):
            raise ConflictError("the invitation is no longer valid", param="token")
        async with wrap_errors():
            user = await User.select().where(User.email == record.email).first()
        password_hash = None
        if user is not None:
            await self._throttle.check(record.email, context.client_address)
            ok = await asyncio.to_thread(self._hasher.verify, user["password_hash"], password)
            if not ok or not user["is_active"]:
                await self._throttle.failed(record.email, context.client_address)
                raise AuthenticationError("wrong password for the invited account")
        else:
            validate_password(password, record.email, self._password_min_length)
            password_hash = await asyncio.to_thread(self._hasher.hash, password)
        user_id = str(user["id"]) if user is not None else str(uuid.uuid4())
        try:
            async with self._database.transaction():
                claimed = (
                    await Invitation.update({Invitation.accepted_at: datetime.now(UTC)})
                    .where(
                        (Invitation.id == record.id)
                        & Invitation.accepted_at.is_null()
                        & Invitation.revoked_at.is_null()
                    )
                    .returning(Invitation.id)
                )
                if not claimed:
                    raise ConflictError("the invitation is no longer valid", param="token")
                if password_hash is not None:
                    await User(id=user_id, email=record.email, password_hash=password_hash).save()
                await Membership(
                    user=user_id, organization=record.organization_id, role=row["role"]
                ).save()
                await self._audit.record(
                    action="invitation.accept",
                    organization_id=record.organization_id,
                    actor_id=user_id,
                    target=record.id,
                    outcome="success",
                    client_address=context.client_address,
                    request_id=context.request_id,
                    details={"created_account": password_hash is not None},
                )
        except IntegrityViolation:
            raise ConflictError("you are already a member of this organisation") from None
        return AcceptedInvitation(
            user_id=user_id,
            email=record.email,
            organization_id=record.organization_id,
            role=record.role,
            created_account=password_hash is not None,
        )


def _query(*extra: Any) -> Any:
    return Invitation.select(
        Invitation.id,
        Invitation.organization,
        Invitation.email,
        Invitation.role,
        Invitation.role.name,
        Invitation.expires_at,
        Invitation.accepted_at,
        Invitation.revoked_at,
        Invitation.created_at,
        *extra,
    ).order_by(Invitation.created_at)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _record(row: dict[str, Any]) -> InvitationRecord:
    expires = _aware(row["expires_at"])
    created = _aware(row["created_at"])
    assert expires is not None and created is not None
    return InvitationRecord(
        id=str(row["id"]),
        organization_id=str(row["organization"]),
        email=row["email"],
        role=row["role.name"],
        expires_at=expires,
        accepted_at=_aware(row["accepted_at"]),
        revoked_at=_aware(row["revoked_at"]),
        created_at=created,
    )
