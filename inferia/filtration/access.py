"""Access control for the management surfaces: who is calling, and may they do this.

``requires("models:write")`` is the Litestar guard every ``/management``, ``/admin``
and ``/audit`` route declares. It authenticates ``Authorization: Bearer <access JWT>``
(401), loads the caller's membership and role in the token's organisation (403 when
the permission is missing) and leaves the ``Caller`` in ``connection.state.caller``,
where the app-wide dependency ``caller`` (``provide_caller``) finds it.

The guard reaches the ``AccessControl`` service through the app state (key
``ACCESS_STATE_KEY``), set by the app factory when the filtration plane runs here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from inferia.core.errors import AuthenticationError, PermissionDeniedError
from inferia.db.errors import wrap_errors
from inferia.filtration.audit import AuditContext
from inferia.filtration.identity.tables import AuthSession, Organization, User
from inferia.filtration.identity.tokens import AccessClaims, AccessTokenCodec
from inferia.filtration.members.tables import Membership
from inferia.filtration.roles.catalogue import ALL_PERMISSIONS, SUPERUSER_ROLE, role_permissions

ACCESS_STATE_KEY = "access"


class Caller(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    organization_id: str
    email: str
    role: str
    permissions: frozenset[str]
    session_id: str = ""
    is_superuser: bool = False

    def can(self, permission: str) -> bool:
        return permission in self.permissions


class AccessControl:
    """Turns an access token into a ``Caller``: two indexed queries, no cache, so a
    disabled user, a removed membership or a revoked session takes effect at once."""

    def __init__(self, tokens: AccessTokenCodec) -> None:
        self.tokens = tokens

    async def authenticate(self, authorization: str | None) -> Caller:
        if not authorization:
            raise AuthenticationError("missing access token: send 'Authorization: Bearer <token>'")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("malformed Authorization header: expected 'Bearer <token>'")
        claims = self.tokens.verify(token.strip())
        return await self.caller_for(claims)

    async def caller_for(self, claims: AccessClaims) -> Caller:
        async with wrap_errors():
            session = (
                await AuthSession.select(
                    AuthSession.user,
                    AuthSession.revoked_at,
                    AuthSession.expires_at,
                    AuthSession.user.email,
                    AuthSession.user.is_active,
                    AuthSession.user.is_superuser,
                )
                .where(AuthSession.id == claims.session_id)
                .first()
            )
            if session is None or str(session["user"]) != claims.user_id:
                raise AuthenticationError("invalid or expired access token")
            if session["revoked_at"] is not None or _expired(session["expires_at"]):
                raise AuthenticationError("the session has ended; log in again")
            if not session["user.is_active"]:
                raise AuthenticationError("this account is disabled")
        return await self._member_caller(
            claims.user_id,
            claims.organization_id,
            email=session["user.email"],
            superuser=bool(session["user.is_superuser"]),
            session_id=claims.session_id,
        )

    async def caller_for_key_owner(self, user_id: str, organization_id: str) -> Caller:
        """An API key acting for its owner: the owner's role in the key's organisation,
        read now (a role change applies at once), with no session."""
        async with wrap_errors():
            user = (
                await User.select(User.email, User.is_active, User.is_superuser)
                .where(User.id == user_id)
                .first()
            )
        if user is None or not user["is_active"]:
            raise AuthenticationError("this API key's owner is disabled")
        return await self._member_caller(
            user_id, organization_id, email=user["email"], superuser=bool(user["is_superuser"])
        )

    async def _member_caller(
        self,
        user_id: str,
        organization_id: str,
        *,
        email: str,
        superuser: bool,
        session_id: str = "",
    ) -> Caller:
        async with wrap_errors():
            membership = (
                await Membership.select(
                    Membership.is_active,
                    Membership.role.name,
                    Membership.role.permissions,
                    Membership.role.builtin,
                )
                .where((Membership.user == user_id) & (Membership.organization == organization_id))
                .first()
            )
            organization = Organization.id == organization_id
            if (
                membership is None
                and superuser
                and not await Organization.exists().where(organization)
            ):
                raise AuthenticationError("the organisation no longer exists")
        if membership is None and not superuser:
            raise AuthenticationError("you are no longer a member of this organisation")
        if membership is not None and not membership["is_active"] and not superuser:
            raise PermissionDeniedError("your membership of this organisation is disabled")
        if superuser:
            # A platform operator may act in every organisation with every permission.
            role = membership["role.name"] if membership else SUPERUSER_ROLE
            permissions = frozenset(ALL_PERMISSIONS)
        else:
            assert membership is not None
            role = membership["role.name"]
            permissions = role_permissions(
                role, membership["role.builtin"], membership["role.permissions"]
            )
        return Caller(
            user_id=user_id,
            organization_id=organization_id,
            email=email,
            role=role,
            permissions=permissions,
            session_id=session_id,
            is_superuser=superuser,
        )


def _expired(expires_at: datetime | None) -> bool:
    if expires_at is None:
        return False
    aware = expires_at if expires_at.tzinfo else expires_at.replace(tzinfo=UTC)
    return aware <= datetime.now(UTC)


def _access_control(connection: ASGIConnection[Any, Any, Any, Any]) -> AccessControl:
    access = connection.app.state.get(ACCESS_STATE_KEY)
    if not isinstance(access, AccessControl):
        # The filtration plane is not in this process: nothing can be authorised here.
        raise AuthenticationError("access control is not available in this process")
    return access


class PermissionGuard:
    """The guard ``requires`` returns; ``permission`` is what the route needs."""

    def __init__(self, permission: str) -> None:
        if permission not in ALL_PERMISSIONS:
            raise ValueError(f"unknown permission {permission!r}: add it to roles/catalogue.py")
        self.permission = permission

    async def __call__(
        self, connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
    ) -> None:
        caller = await _access_control(connection).authenticate(
            connection.headers.get("authorization")
        )
        if not caller.can(self.permission):
            raise PermissionDeniedError(
                f"your role '{caller.role}' lacks the permission '{self.permission}'"
            )
        connection.state.caller = caller

    def __repr__(self) -> str:
        return f"requires({self.permission!r})"


def requires(permission: str) -> PermissionGuard:
    """A Litestar guard: the caller must hold ``permission`` in their organisation."""
    return PermissionGuard(permission)


async def provide_caller(request: Request[Any, Any, Any]) -> Caller:
    """The ``caller`` dependency: the guard's Caller, or (on routes that need only a
    logged-in user, like ``/auth/me``) the authenticated caller without a permission check."""
    caller = request.state.get("caller")
    if isinstance(caller, Caller):
        return caller
    caller = await _access_control(request).authenticate(request.headers.get("authorization"))
    request.state.caller = caller
    return caller


def audit_context(request: Request[Any, Any, Any], caller: Caller | None = None) -> AuditContext:
    """Who acts (the caller, if any) and from where, for the changes a route makes."""
    if caller is None:
        return AuditContext.of(request)
    return AuditContext.of(request, actor_id=caller.user_id, organization_id=caller.organization_id)
