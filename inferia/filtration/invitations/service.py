"""Invitations to join an organisation: single use, expiring, stored as a digest.

The token (``inv_`` + 256 random bits) is shown once to the inviter, who passes it
on. Accepting creates the account (new e-mail) or, for an existing account, asks
what a login asks: its password, and a TOTP code when it has 2FA. The invitation is
claimed with a conditional UPDATE, so it works exactly once even when two requests
race.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from inferia.core.errors import (
    AuthenticationError,
    ConflictError,
    IntegrityViolation,
    NotFoundError,
    ValidationError,
)
from inferia.filtration.audit import AuditContext
from inferia.filtration.changes import Changes
from inferia.filtration.identity.bootstrap import validate_email, validate_password
from inferia.filtration.identity.passwords import PasswordHasher
from inferia.filtration.identity.throttle import LoginThrottle
from inferia.filtration.invitations import store
from inferia.filtration.invitations.schemas import (
    AcceptedInvitation,
    CreatedInvitation,
    InvitationRecord,
)
from inferia.filtration.invitations.tables import Invitation
from inferia.filtration.members import store as members
from inferia.filtration.roles.service import RoleService, check_grantable
from inferia.filtration.twofactor.service import (
    CodeReplayed,
    SecondFactor,
    SecondFactorRequired,
    TwoFactor,
)

if TYPE_CHECKING:
    from inferia.config import AuthSettings
    from inferia.filtration.access import Caller

TOKEN_PREFIX = "inv_"
# The same words whatever was wrong, and whoever holds the account.
_WRONG_CREDENTIALS = "invalid password or code"
MAX_TTL_S = 30 * 24 * 3600


class _WrongCredentials(AuthenticationError):
    """A wrong password or code for an existing account: counted by the throttle."""


class InvitationService:
    def __init__(
        self,
        changes: Changes,
        hasher: PasswordHasher,
        roles: RoleService,
        throttle: LoginThrottle,
        two_factor: TwoFactor,
        auth: AuthSettings,
    ) -> None:
        self._changes = changes
        self._hasher = hasher
        self._roles = roles
        self._throttle = throttle
        self._two_factor = two_factor
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
        if await store.is_member(caller.organization_id, email):
            raise ConflictError("this person is already a member", param="email")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = Invitation(
            id=uuid.uuid4(),
            organization=caller.organization_id,
            email=email,
            role=role.id,
            digest=store.digest(token),
            invited_by=caller.user_id or None,
            expires_at=datetime.now(UTC) + timedelta(seconds=ttl),
        )
        async with self._changes.apply(context) as change:
            await store.insert(row)
            change.audit(
                "invitation.create",
                target=str(row.id),
                details={"email": email, "role": role.name},
            )
        return CreatedInvitation(
            invitation=await self.get(caller.organization_id, str(row.id)), token=token
        )

    async def list(self, organization_id: str) -> list[InvitationRecord]:
        return await store.list_invitations(organization_id)

    async def get(self, organization_id: str, invitation_id: str) -> InvitationRecord:
        record = await store.find(organization_id, invitation_id)
        if record is None:
            raise NotFoundError("invitation not found")
        return record

    async def revoke(self, caller: Caller, context: AuditContext, invitation_id: str) -> None:
        record = await self.get(caller.organization_id, invitation_id)
        if record.accepted_at is not None:
            raise ConflictError("the invitation was already accepted")
        async with self._changes.apply(context) as change:
            await store.revoke(record.id)
            change.audit("invitation.revoke", target=record.id)

    async def accept(
        self, token: str, password: str, context: AuditContext, *, totp: str | None = None
    ) -> AcceptedInvitation:
        found = await store.find_by_token(token)
        if found is None:
            raise NotFoundError("invitation not found", param="token")
        record = found.record
        if record.accepted_at or record.revoked_at or record.expires_at <= datetime.now(UTC):
            raise ConflictError("the invitation is no longer valid", param="token")
        user = await store.account(record.email)
        password_hash = None
        factor = None
        if user is not None:
            # Counted before the password is checked, like a login.
            async with self._throttle.guessing(
                record.email, context.client_address, _WrongCredentials
            ):
                factor = await self._authenticate(user, password, totp)
        else:
            validate_password(password, record.email, self._password_min_length)
            password_hash = await asyncio.to_thread(self._hasher.hash, password)
        try:
            async with self._changes.apply(context) as change:
                if not await store.claim(record.id):
                    raise ConflictError("the invitation is no longer valid", param="token")
                if password_hash is not None:
                    # Whoever held the token chose this address: not proof of owning it.
                    user_id = await members.insert_account(
                        record.email,
                        password_hash,
                        record.organization_id,
                        found.role_id,
                        verified=False,
                    )
                else:
                    assert user is not None
                    user_id = str(user["id"])
                    if factor is not None:
                        await self._two_factor.consume(user_id, factor)
                    await members.insert(user_id, record.organization_id, found.role_id)
                change.audit(
                    "invitation.accept",
                    target=record.id,
                    organization_id=record.organization_id,
                    actor_id=user_id,
                    details={"created_account": password_hash is not None},
                )
        except IntegrityViolation:
            raise ConflictError("you are already a member of this organisation") from None
        except CodeReplayed:
            raise _WrongCredentials(_WRONG_CREDENTIALS) from None
        return AcceptedInvitation(
            user_id=user_id,
            email=record.email,
            organization_id=record.organization_id,
            role=record.role,
            created_account=password_hash is not None,
        )

    async def _authenticate(
        self, user: dict[str, Any], password: str, totp: str | None
    ) -> SecondFactor | None:
        """What a login asks of an existing account: its password and, with 2FA, a code.
        The verified code is consumed with the acceptance."""
        ok = await asyncio.to_thread(self._hasher.verify, user["password_hash"], password)
        if not ok or not user["is_active"]:
            raise _WrongCredentials(_WRONG_CREDENTIALS)
        if not user["totp_enabled"]:
            return None
        if not totp:
            raise SecondFactorRequired("a TOTP code is required for this account", param="totp")
        try:
            factor = self._two_factor.check(user, totp)
        except CodeReplayed:
            factor = None
        if factor is None:
            raise _WrongCredentials(_WRONG_CREDENTIALS)
        return factor
