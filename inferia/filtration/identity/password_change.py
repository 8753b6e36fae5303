"""Changing a password: the user's own (``POST /auth/password``) and an operator's
reset (``inferia admin reset-password``).

Both apply the password policy of account creation, hash (~0.3 s) in a worker
thread before the transaction opens, end the account's other sessions in the same
transaction as the new hash (a stolen session must not outlive the change), and
are audited. The self-service change is counted by the login throttle: a stolen
access token must not become an unthrottled password oracle.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from inferia.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from inferia.filtration.identity import store
from inferia.filtration.identity.bootstrap import normalise_email, validate_password

if TYPE_CHECKING:
    from inferia.config import AuthSettings
    from inferia.filtration.access import Caller
    from inferia.filtration.audit import AuditContext
    from inferia.filtration.changes import Changes
    from inferia.filtration.identity.passwords import PasswordHasher
    from inferia.filtration.identity.throttle import LoginThrottle


class _WrongPassword(PermissionDeniedError):
    """A wrong current password: the attempt counts against the throttle."""


class PasswordChanges:
    def __init__(
        self,
        changes: Changes,
        hasher: PasswordHasher,
        throttle: LoginThrottle,
        auth: AuthSettings,
    ) -> None:
        self._changes = changes
        self._hasher = hasher
        self._throttle = throttle
        self._min_length = auth.password_min_length

    async def change(self, caller: Caller, current: str, new: str, context: AuditContext) -> None:
        """The caller's own password; every session but the caller's ends."""
        async with self._throttle.guessing(caller.email, context.client_address, _WrongPassword):
            await self._change(caller, current, new, context)

    async def _change(self, caller: Caller, current: str, new: str, context: AuditContext) -> None:
        user = await _user(caller.user_id)
        if not await asyncio.to_thread(self._hasher.verify, user["password_hash"], current):
            await self._failed(context, user, "bad_password")
            raise _WrongPassword("the current password is wrong")
        if new == current:
            raise ValidationError(
                "the new password must differ from the current one", param="new_password"
            )
        self._validate(new, user["email"])
        await self._store(user, new, context, keep_session=caller.session_id, by="self")

    async def reset(self, email: str, new: str, context: AuditContext) -> str:
        """An operator sets the account's password (no current one needed) and ends
        every session of the account; its id."""
        user = await store.user_by_email(normalise_email(email))
        if user is None:
            raise NotFoundError(f"no user with e-mail {email!r}", param="email")
        self._validate(new, user["email"])
        await self._store(user, new, context, keep_session=None, by="operator")
        return str(user["id"])

    def _validate(self, password: str, email: str) -> None:
        try:
            validate_password(password, email, self._min_length)
        except ValidationError as exc:
            raise ValidationError(exc.message, param="new_password") from None

    async def _store(
        self,
        user: dict[str, Any],
        password: str,
        context: AuditContext,
        *,
        keep_session: str | None,
        by: str,
    ) -> None:
        user_id = str(user["id"])
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        organization_id = context.organization_id or await store.first_organization(user_id)
        async with self._changes.apply(context) as change:
            await store.set_password_hash(user_id, password_hash)
            await store.revoke_user_sessions(user_id, "password_changed", keep_session=keep_session)
            change.audit(
                "auth.password.change" if by == "self" else "auth.password.reset",
                target=user_id,
                organization_id=organization_id,
                details={"sessions_revoked": "others" if keep_session else "all"},
            )

    async def _failed(self, context: AuditContext, user: dict[str, Any], reason: str) -> None:
        """The refused attempt's audit record, committed on its own."""
        async with self._changes.apply(context) as change:
            change.audit(
                "auth.password.change",
                target=str(user["id"]),
                outcome="failure",
                details={"reason": reason},
            )


async def _user(user_id: str) -> dict[str, Any]:
    user = await store.user_by_id(user_id)
    if user is None:
        raise NotFoundError("this account no longer exists")
    return user
