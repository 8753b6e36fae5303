"""AuthService: login (password + TOTP), refresh rotation, logout, switch-org, me.

Slow work (argon2, ~0.3 s with production parameters) runs in a worker thread and
before any transaction opens: on SQLite a transaction holds the one write lock.
Failures are audited in a change of their own (the refused action commits nothing).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any, NoReturn

from inferia.core.errors import AuthenticationError, NotFoundError, PermissionDeniedError
from inferia.db.errors import wrap_errors
from inferia.filtration.audit import AuditContext
from inferia.filtration.changes import Changes
from inferia.filtration.identity import store
from inferia.filtration.identity.bootstrap import normalise_email
from inferia.filtration.identity.passwords import PasswordHasher
from inferia.filtration.identity.schemas import (
    LoginRequest,
    MeResponse,
    OrganizationMembership,
    TokenResponse,
)
from inferia.filtration.identity.throttle import LoginThrottle
from inferia.filtration.identity.tokens import AccessTokenCodec
from inferia.filtration.twofactor.service import (
    CodeReplayed,
    SecondFactor,
    SecondFactorRequired,
    TwoFactor,
)

if TYPE_CHECKING:
    from inferia.config import AuthSettings
    from inferia.filtration.access import Caller

_BAD_LOGIN = "invalid e-mail, password or code"
# A valid code of a time step already used (e.g. the one that just enabled 2FA).
_CODE_USED = "this code was already used; wait for the next one"


class _LoginRefused(AuthenticationError):
    """Wrong credentials: the attempt counts against the throttle."""


class AuthService:
    def __init__(
        self,
        changes: Changes,
        hasher: PasswordHasher,
        tokens: AccessTokenCodec,
        two_factor: TwoFactor,
        throttle: LoginThrottle,
        auth: AuthSettings,
    ) -> None:
        self._changes = changes
        self._hasher = hasher
        self._tokens = tokens
        self._two_factor = two_factor
        self._throttle = throttle
        self._refresh_ttl_s = auth.refresh_token_ttl_s
        self._dummy_hash: str | None = None

    @property
    def refresh_ttl_s(self) -> int:
        """The longest a session lasts: the refresh cookie's lifetime."""
        return self._refresh_ttl_s

    # Login -----------------------------------------------------------------
    async def login(self, body: LoginRequest, context: AuditContext) -> TokenResponse:
        email = normalise_email(body.email)
        # Counted before the password is checked: a concurrent burst cannot outrun it.
        attempt = await self._throttle.reserve(email, context.client_address)
        try:
            tokens = await self._login(body, email, context)
        except _LoginRefused:
            raise  # a wrong guess: it stays counted
        except Exception:
            await self._throttle.release(attempt)
            raise
        await self._throttle.succeeded(attempt)
        return tokens

    async def _login(self, body: LoginRequest, email: str, context: AuditContext) -> TokenResponse:
        user = await store.user_by_email(email)
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
                # Said only to someone who gave the right password: no oracle for others.
                await self._refuse(context, email, user, "totp_replayed", _CODE_USED)
            if factor is None:
                await self._refuse(context, email, user, "bad_totp")
        organization_id = await self._choose_organization(user, body.organization)
        new_hash = None
        if self._hasher.needs_rehash(user["password_hash"]):
            new_hash = await asyncio.to_thread(self._hasher.hash, body.password)
        try:
            async with self._changes.apply(context) as change:
                if factor is not None:
                    await self._two_factor.consume(user_id, factor)
                if new_hash is not None:
                    await store.set_password_hash(user_id, new_hash)
                session_id, refresh = await store.open_session(
                    user_id, organization_id, self._refresh_ttl_s
                )
                change.audit(
                    "auth.login",
                    target=user_id,
                    organization_id=organization_id,
                    actor_id=user_id,
                    details={"second_factor": _factor_kind(factor), "rehashed": bool(new_hash)},
                )
        except CodeReplayed:
            await self._refuse(context, email, user, "totp_replayed", _CODE_USED)
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
        self,
        context: AuditContext,
        email: str,
        user: dict[str, Any] | None,
        reason: str,
        message: str = _BAD_LOGIN,
    ) -> NoReturn:
        """Audit and refuse a failed login (the attempt was counted when it began)."""
        user_id = str(user["id"]) if user else None
        organization_id = await store.first_organization(user_id) if user_id else None
        async with self._changes.apply(context) as change:
            change.audit(
                "auth.login",
                organization_id=organization_id,
                actor_id=user_id,
                target=user_id or email,
                outcome="failure",
                details={"reason": reason},
            )
        raise _LoginRefused(message)

    async def _choose_organization(self, user: dict[str, Any], reference: str | None) -> str:
        user_id = str(user["id"])
        if reference is not None:
            try:
                organization_id = await store.organization_id_of(reference)
            except NotFoundError:
                organization_id = None
            if organization_id is not None and (
                user["is_superuser"] or await store.active_member(user_id, organization_id)
            ):
                return organization_id
            # The same answer whether the organisation exists or not: other tenants'
            # existence is not the caller's business.
            raise PermissionDeniedError("you are not an active member of that organisation")
        first = await store.first_organization(user_id, active_only=True)
        if first is None:
            raise PermissionDeniedError("this account is not an active member of any organisation")
        return first

    # Refresh, logout, switch-org -------------------------------------------
    async def refresh(self, token: str, context: AuditContext) -> TokenResponse:
        found = await self._find_refresh(token)
        if found.used:
            await self._revoke_for_reuse(found, context)
        if found.session_revoked or found.session_expired or found.token_expired:
            raise AuthenticationError("the session has ended; log in again")
        if not await store.user_active(found.user_id):
            raise AuthenticationError("this account is disabled")
        try:
            async with self._changes.apply(context) as change:
                if not await store.mark_used(found.token_id):
                    raise CodeReplayed()
                refresh = await store.issue_refresh_token(
                    found.session_id, found.session_expires_at
                )
                change.audit(
                    "auth.refresh",
                    target=found.user_id,
                    organization_id=found.organization_id,
                    actor_id=found.user_id,
                )
        except CodeReplayed:
            # A concurrent request exchanged the same token first: that is reuse too.
            await self._revoke_for_reuse(found, context)
        return self._token_response(found.user_id, found.organization_id, found.session_id, refresh)

    async def _find_refresh(self, token: str) -> store.RefreshLookup:
        found = None
        if store.plausible_refresh_token(token):
            async with wrap_errors():
                found = await store.find_refresh_token(token)
        if found is None:
            raise AuthenticationError("invalid refresh token")
        return found

    async def _revoke_for_reuse(
        self, found: store.RefreshLookup, context: AuditContext
    ) -> NoReturn:
        async with self._changes.apply(context) as change:
            await store.revoke_session(found.session_id, "refresh_reuse")
            change.audit(
                "auth.refresh",
                organization_id=found.organization_id,
                actor_id=found.user_id,
                target=found.session_id,
                outcome="failure",
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
        async with self._changes.apply(context) as change:
            await store.revoke_session(session_id, "logout")
            change.audit(
                "auth.logout",
                organization_id=organization_id,
                actor_id=user_id,
                target=session_id,
            )

    async def switch_organization(
        self, caller: Caller, reference: str, context: AuditContext
    ) -> TokenResponse:
        organization_id = await store.organization_id_of(reference)
        if not caller.is_superuser and not await store.active_member(
            caller.user_id, organization_id
        ):
            # Same answer as for an organisation that does not exist.
            raise NotFoundError("organisation not found", param="organization")
        async with self._changes.apply(context) as change:
            expires_at = await store.session_expiry(caller.session_id)
            if expires_at is None:
                raise AuthenticationError("the session has ended; log in again")
            await store.move_session(caller.session_id, organization_id)
            await store.supersede_refresh_tokens(caller.session_id)
            refresh = await store.issue_refresh_token(caller.session_id, expires_at)
            change.audit(
                "auth.switch_org",
                target=organization_id,
                organization_id=organization_id,
                details={"from_organization": caller.organization_id},
            )
        return self._token_response(caller.user_id, organization_id, caller.session_id, refresh)

    async def me(self, caller: Caller) -> MeResponse:
        totp_enabled = await store.totp_enabled(caller.user_id)
        rows = await store.memberships(caller.user_id)
        return MeResponse(
            user_id=caller.user_id,
            email=caller.email,
            organization_id=caller.organization_id,
            role=caller.role,
            permissions=sorted(caller.permissions),
            totp_enabled=totp_enabled,
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


def _factor_kind(factor: SecondFactor | None) -> str:
    return "none" if factor is None else factor.kind
