"""AuthService: login (password + TOTP), refresh rotation, logout, switch-org, me.

Slow work (argon2, ~0.3 s with production parameters) runs in a worker thread and
before any transaction opens: on SQLite a transaction holds the one write lock.
Failures are audited in their own transaction (the refused action commits nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import TYPE_CHECKING, Any

from inferia.core.errors import AuthenticationError, NotFoundError, PermissionDeniedError
from inferia.db.errors import wrap_errors
from inferia.filtration.audit import AuditContext, AuditTrail
from inferia.filtration.identity import sessions
from inferia.filtration.identity.bootstrap import normalise_email
from inferia.filtration.identity.passwords import PasswordHasher
from inferia.filtration.identity.schemas import (
    LoginRequest,
    MeResponse,
    OrganizationMembership,
    TokenResponse,
)
from inferia.filtration.identity.tables import AuthSession, Membership, Organization, User
from inferia.filtration.identity.throttle import LoginThrottle
from inferia.filtration.identity.tokens import AccessTokenCodec
from inferia.filtration.identity.twofactor import CodeReplayed, TwoFactor

if TYPE_CHECKING:
    from inferia.config import AuthSettings
    from inferia.db import Database
    from inferia.filtration.access import Caller

_BAD_LOGIN = "invalid e-mail, password or code"


class SecondFactorRequired(AuthenticationError):
    code = "totp_required"


class AuthService:
    def __init__(
        self,
        database: Database,
        hasher: PasswordHasher,
        tokens: AccessTokenCodec,
        two_factor: TwoFactor,
        throttle: LoginThrottle,
        audit: AuditTrail,
        auth: AuthSettings,
    ) -> None:
        self._database = database
        self._hasher = hasher
        self._tokens = tokens
        self._two_factor = two_factor
        self._throttle = throttle
        self._audit = audit
        self._refresh_ttl_s = auth.refresh_token_ttl_s
        self._dummy_hash: str | None = None

    # Login -----------------------------------------------------------------
    async def login(self, body: LoginRequest, context: AuditContext) -> TokenResponse:
        email = normalise_email(body.email)
        address = context.client_address
        await self._throttle.check(email, address)
        user = await _user_by_email(email)
        if not await self._password_matches(user, body.password):
            await self._refuse(context, email, user, "bad_password")
        assert user is not None
        user_id = str(user["id"])
        if not user["is_active"]:
            await self._refuse(context, email, user, "account_disabled")
        factor = None
        if user["totp_enabled"]:
            if not body.totp:
                raise SecondFactorRequired("a TOTP code is required for this account")
            try:
                factor = self._two_factor.check(user, body.totp)
            except CodeReplayed:
                await self._refuse(context, email, user, "totp_replayed")
            if factor is None:
                await self._refuse(context, email, user, "bad_totp")
        organization_id = await self._choose_organization(user, body.organization)
        new_hash = None
        if self._hasher.needs_rehash(user["password_hash"]):
            new_hash = await asyncio.to_thread(self._hasher.hash, body.password)
        try:
            async with self._database.transaction():
                if factor is not None:
                    await self._two_factor.consume(user_id, factor)
                if new_hash is not None:
                    await User.update({User.password_hash: new_hash}).where(User.id == user_id)
                session_id, refresh = await sessions.open_session(
                    user_id, organization_id, self._refresh_ttl_s
                )
                await self._audit.record_as(
                    context,
                    "auth.login",
                    target=user_id,
                    organization_id=organization_id,
                    actor_id=user_id,
                    details={"second_factor": _factor_kind(factor), "rehashed": bool(new_hash)},
                )
        except CodeReplayed:
            await self._refuse(context, email, user, "totp_replayed")
        await self._throttle.succeeded(email, address)
        return self._token_response(user_id, organization_id, session_id, refresh)

    async def _password_matches(self, user: dict[str, Any] | None, password: str) -> bool:
        if user is None:
            # Spend the same time as for a real account: no timing hint about who exists.
            if self._dummy_hash is None:
                self._dummy_hash = await asyncio.to_thread(self._hasher.hash, uuid.uuid4().hex)
            await asyncio.to_thread(self._hasher.verify, self._dummy_hash, password)
            return False
        return await asyncio.to_thread(self._hasher.verify, user["password_hash"], password)

    async def _refuse(
        self, context: AuditContext, email: str, user: dict[str, Any] | None, reason: str
    ) -> Any:
        """Count, audit and refuse a failed login; never returns."""
        await self._throttle.failed(email, context.client_address)
        user_id = str(user["id"]) if user else None
        organization_id = await _first_organization(user_id) if user_id else None
        async with self._database.transaction():
            await self._audit.record(
                action="auth.login",
                organization_id=organization_id,
                actor_id=user_id,
                target=user_id or email,
                outcome="failure",
                client_address=context.client_address,
                request_id=context.request_id,
                details={"reason": reason},
            )
        raise AuthenticationError(_BAD_LOGIN)

    async def _choose_organization(self, user: dict[str, Any], reference: str | None) -> str:
        user_id = str(user["id"])
        if reference is not None:
            organization_id = await organization_id_of(reference)
            if user["is_superuser"] or await _active_member(user_id, organization_id):
                return organization_id
            raise PermissionDeniedError("you are not an active member of that organisation")
        async with wrap_errors():
            row = (
                await Membership.select(Membership.organization)
                .where((Membership.user == user_id) & (Membership.is_active == True))  # noqa: E712
                .order_by(Membership.created_at)
                .first()
            )
        if row is None:
            raise PermissionDeniedError("this account is not an active member of any organisation")
        return str(row["organization"])

    # Refresh, logout, switch-org -------------------------------------------
    async def refresh(self, token: str, context: AuditContext) -> TokenResponse:
        found = await self._find_refresh(token)
        if found.used:
            await self._revoke_for_reuse(found, context)
        if found.session_revoked or found.session_expired or found.token_expired:
            raise AuthenticationError("the session has ended; log in again")
        if not await _user_active(found.user_id):
            raise AuthenticationError("this account is disabled")
        try:
            async with self._database.transaction():
                if not await sessions.mark_used(found.token_id):
                    raise CodeReplayed()
                refresh = await sessions.issue_refresh_token(
                    found.session_id, found.session_expires_at
                )
                await self._audit.record_as(
                    context,
                    "auth.refresh",
                    target=found.user_id,
                    organization_id=found.organization_id,
                    actor_id=found.user_id,
                )
        except CodeReplayed:
            # A concurrent request exchanged the same token first: that is reuse too.
            await self._revoke_for_reuse(found, context)
        return self._token_response(found.user_id, found.organization_id, found.session_id, refresh)

    async def _find_refresh(self, token: str) -> sessions.RefreshLookup:
        found = None
        if sessions.plausible_refresh_token(token):
            async with wrap_errors():
                found = await sessions.find_refresh_token(token)
        if found is None:
            raise AuthenticationError("invalid refresh token")
        return found

    async def _revoke_for_reuse(self, found: sessions.RefreshLookup, context: AuditContext) -> Any:
        async with self._database.transaction():
            await sessions.revoke_session(found.session_id, "refresh_reuse")
            await self._audit.record(
                action="auth.refresh",
                organization_id=found.organization_id,
                actor_id=found.user_id,
                target=found.session_id,
                outcome="failure",
                client_address=context.client_address,
                request_id=context.request_id,
                details={"reason": "refresh_token_reused", "session_revoked": True},
            )
        raise AuthenticationError(
            "refresh token reuse detected: every token of this session is revoked; log in again"
        )

    async def logout(
        self, caller: Caller | None, refresh_token: str | None, context: AuditContext
    ) -> None:
        if caller is not None:
            session_id, user_id, organization_id = (
                caller.session_id,
                caller.user_id,
                caller.organization_id,
            )
        elif refresh_token is not None:
            found = await self._find_refresh(refresh_token)
            session_id, user_id, organization_id = (
                found.session_id,
                found.user_id,
                found.organization_id,
            )
        else:
            raise AuthenticationError("send the access token or the refresh token to log out")
        async with self._database.transaction():
            await sessions.revoke_session(session_id, "logout")
            await self._audit.record(
                action="auth.logout",
                organization_id=organization_id,
                actor_id=user_id,
                target=session_id,
                outcome="success",
                client_address=context.client_address,
                request_id=context.request_id,
            )

    async def switch_organization(
        self, caller: Caller, reference: str, context: AuditContext
    ) -> TokenResponse:
        organization_id = await organization_id_of(reference)
        if not caller.is_superuser and not await _active_member(caller.user_id, organization_id):
            # Same answer as for an organisation that does not exist.
            raise NotFoundError("organisation not found", param="organization")
        async with self._database.transaction():
            row = (
                await AuthSession.select(AuthSession.expires_at)
                .where(AuthSession.id == caller.session_id)
                .first()
            )
            if row is None:
                raise AuthenticationError("the session has ended; log in again")
            await AuthSession.update({AuthSession.organization: organization_id}).where(
                AuthSession.id == caller.session_id
            )
            await sessions.supersede_refresh_tokens(caller.session_id)
            refresh = await sessions.issue_refresh_token(
                caller.session_id, sessions.aware(row["expires_at"])
            )
            await self._audit.record_as(
                context,
                "auth.switch_org",
                target=organization_id,
                organization_id=organization_id,
                details={"from_organization": caller.organization_id},
            )
        return self._token_response(caller.user_id, organization_id, caller.session_id, refresh)

    async def me(self, caller: Caller) -> MeResponse:
        async with wrap_errors():
            user = await User.select(User.totp_enabled).where(User.id == caller.user_id).first()
            rows = (
                await Membership.select(
                    Membership.organization,
                    Membership.organization.slug,
                    Membership.organization.name,
                    Membership.role.name,
                    Membership.is_active,
                )
                .where(Membership.user == caller.user_id)
                .order_by(Membership.created_at)
            )
        return MeResponse(
            user_id=caller.user_id,
            email=caller.email,
            organization_id=caller.organization_id,
            role=caller.role,
            permissions=sorted(caller.permissions),
            totp_enabled=bool(user and user["totp_enabled"]),
            is_superuser=caller.is_superuser,
            organizations=[
                OrganizationMembership(
                    id=str(row["organization"]),
                    slug=row["organization.slug"],
                    name=row["organization.name"],
                    role=row["role.name"],
                    active=bool(row["is_active"]),
                )
                for row in rows
            ],
        )

    def _token_response(
        self, user_id: str, organization_id: str, session_id: str, refresh: str
    ) -> TokenResponse:
        access = self._tokens.issue(user_id, organization_id, session_id)
        return TokenResponse(
            access_token=access.token,
            refresh_token=refresh,
            expires_in=access.expires_in,
            organization_id=organization_id,
        )


def _factor_kind(factor: object) -> str:
    if factor is None:
        return "none"
    return "recovery_code" if getattr(factor, "recovery_digest", None) else "totp"


async def organization_id_of(reference: str) -> str:
    """An organisation's id from its id or slug; NotFoundError otherwise."""
    condition = Organization.slug == reference
    with contextlib.suppress(ValueError):
        condition = Organization.id == str(uuid.UUID(reference))
    async with wrap_errors():
        row = await Organization.select(Organization.id).where(condition).first()
    if row is None:
        raise NotFoundError("organisation not found", param="organization")
    return str(row["id"])


async def _user_by_email(email: str) -> dict[str, Any] | None:
    async with wrap_errors():
        row: dict[str, Any] | None = await User.select().where(User.email == email).first()
    return row


async def _user_active(user_id: str) -> bool:
    async with wrap_errors():
        row = await User.select(User.is_active).where(User.id == user_id).first()
    return bool(row and row["is_active"])


async def _active_member(user_id: str, organization_id: str) -> bool:
    async with wrap_errors():
        return bool(
            await Membership.exists().where(
                (Membership.user == user_id)
                & (Membership.organization == organization_id)
                & (Membership.is_active == True)  # noqa: E712
            )
        )


async def _first_organization(user_id: str) -> str | None:
    async with wrap_errors():
        row = (
            await Membership.select(Membership.organization)
            .where(Membership.user == user_id)
            .order_by(Membership.created_at)
            .first()
        )
    return str(row["organization"]) if row else None
