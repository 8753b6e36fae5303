"""TOTP enrolment (setup -> verify), disabling, and checking a second factor at login.

The seed is sealed with the ``SecretBox`` (context ``totp:<user id>``) before it is
stored. A code is consumed by raising ``users.totp_last_step`` with a conditional
UPDATE, so two requests racing with the same code cannot both win; a recovery code
is consumed by removing its digest from the user's list in the same transaction.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from inferia.core.crypto import DecryptionError, SecretBox
from inferia.core.errors import (
    AuthenticationError,
    ConflictError,
    PermissionDeniedError,
    StorageError,
    ValidationError,
)
from inferia.filtration.audit import AuditContext
from inferia.filtration.changes import Changes
from inferia.filtration.identity import store as accounts
from inferia.filtration.identity.passwords import PasswordHasher
from inferia.filtration.identity.throttle import LoginThrottle
from inferia.filtration.twofactor import store, totp
from inferia.filtration.twofactor.schemas import TotpEnabledResponse, TotpSetupResponse

if TYPE_CHECKING:
    from inferia.config import AuthSettings
    from inferia.filtration.access import Caller


class SecondFactorRequired(AuthenticationError):
    """The account has 2FA and no code was sent: 401 ``totp_required``."""

    code = "totp_required"


class _WrongCredentials(PermissionDeniedError):
    """A wrong password or code: the attempt counts against the throttle."""


class CodeReplayed(Exception):
    """The code's time step (or the recovery code) was already used."""


@dataclass(frozen=True, slots=True)
class SecondFactor:
    """A verified code, not yet consumed: either a TOTP time step or a recovery code."""

    step: int | None = None
    recovery_digest: str | None = None

    @property
    def kind(self) -> str:
        return "recovery_code" if self.recovery_digest else "totp"


def totp_context(user_id: str) -> str:
    return f"totp:{user_id}"


class TwoFactor:
    def __init__(
        self,
        changes: Changes,
        box: SecretBox,
        hasher: PasswordHasher,
        throttle: LoginThrottle,
        auth: AuthSettings,
    ) -> None:
        self._changes = changes
        self._box = box
        self._hasher = hasher
        self._throttle = throttle
        self._window = auth.totp_window
        self._issuer = auth.totp_issuer

    def check(self, user: dict[str, Any], code: str) -> SecondFactor | None:
        """Whether ``code`` is a valid second factor for ``user`` (a users row)."""
        if totp.looks_like_recovery_code(code):
            digest = totp.recovery_code_digest(code)
            if digest in json.loads(user["recovery_codes"] or "[]"):
                return SecondFactor(recovery_digest=digest)
            return None
        secret = self._secret(user)
        step = totp.match_step(secret, code, self._window)
        if step is None:
            return None
        last = user["totp_last_step"]
        if last is not None and step <= last:
            raise CodeReplayed()
        return SecondFactor(step=step)

    async def consume(self, user_id: str, factor: SecondFactor) -> None:
        """Use the factor up; call inside the transaction of the login it allows."""
        if factor.step is not None:
            used = await store.claim_step(user_id, factor.step)
        else:
            assert factor.recovery_digest is not None
            used = await store.take_recovery_code(user_id, factor.recovery_digest)
        if not used:
            raise CodeReplayed()

    async def setup(self, caller: Caller, context: AuditContext) -> TotpSetupResponse:
        user = await _user(caller.user_id)
        if user["totp_enabled"]:
            raise ConflictError("two-factor authentication is already enabled; disable it first")
        secret = totp.new_secret()
        sealed = self._box.encrypt(secret, totp_context(caller.user_id))
        async with self._changes.apply(context) as change:
            await store.set_secret(caller.user_id, sealed)
            change.audit("auth.totp.setup", target=caller.user_id)
        return TotpSetupResponse(
            secret=secret, otpauth_uri=totp.provisioning_uri(secret, caller.email, self._issuer)
        )

    async def verify(self, caller: Caller, code: str, context: AuditContext) -> TotpEnabledResponse:
        user = await _user(caller.user_id)
        if user["totp_enabled"]:
            raise ConflictError("two-factor authentication is already enabled")
        if not user["totp_secret_encrypted"]:
            raise ConflictError("start with POST /auth/totp/setup")
        step = totp.match_step(self._secret(user), code, self._window)
        if step is None:
            await self._failed(context, caller, "auth.totp.verify", "bad_code")
            raise ValidationError("the code is not valid; check the device's clock", param="code")
        codes = totp.new_recovery_codes()
        digests = [totp.recovery_code_digest(c) for c in codes]
        async with self._changes.apply(context) as change:
            await store.enable(caller.user_id, step, digests)
            # Sessions opened with the password alone must not outlive the change.
            await accounts.revoke_user_sessions(
                caller.user_id, "totp_enabled", keep_session=caller.session_id
            )
            change.audit("auth.totp.enable", target=caller.user_id)
        return TotpEnabledResponse(enabled=True, recovery_codes=codes)

    async def disable(
        self, caller: Caller, password: str, code: str, context: AuditContext
    ) -> None:
        # Counted before the password is checked, like a login.
        async with self._throttle.guessing(caller.email, context.client_address, _WrongCredentials):
            await self._disable(caller, password, code, context)

    async def _disable(
        self, caller: Caller, password: str, code: str, context: AuditContext
    ) -> None:
        user = await _user(caller.user_id)
        if not user["totp_enabled"]:
            raise ConflictError("two-factor authentication is not enabled")
        password_ok = await asyncio.to_thread(self._hasher.verify, user["password_hash"], password)
        factor = None
        try:
            factor = self.check(user, code) if password_ok else None
        except CodeReplayed:
            factor = None
        if factor is None:
            await self._failed(context, caller, "auth.totp.disable", "bad_credentials")
            raise _WrongCredentials("wrong password or code")
        try:
            async with self._changes.apply(context) as change:
                await self.consume(caller.user_id, factor)
                await store.disable(caller.user_id)
                await accounts.revoke_user_sessions(
                    caller.user_id, "totp_disabled", keep_session=caller.session_id
                )
                change.audit("auth.totp.disable", target=caller.user_id)
        except CodeReplayed:
            await self._failed(context, caller, "auth.totp.disable", "code_replayed")
            raise PermissionDeniedError("this code was already used") from None

    def _secret(self, user: dict[str, Any]) -> str:
        try:
            return self._box.decrypt(user["totp_secret_encrypted"], totp_context(str(user["id"])))
        except DecryptionError:
            # Wrong or missing encryption key: a configuration problem, never a login bypass.
            raise StorageError(
                "a TOTP secret cannot be decrypted: check security.encryption_key "
                "and security.previous_encryption_keys"
            ) from None

    async def _failed(
        self, context: AuditContext, caller: Caller, action: str, reason: str
    ) -> None:
        """The refused attempt's audit record, committed on its own."""
        async with self._changes.apply(context) as change:
            change.audit(
                action, target=caller.user_id, outcome="failure", details={"reason": reason}
            )

    async def reencrypt_all(self, context: AuditContext) -> int:
        """Re-seal every TOTP seed under the current key (after an encryption key rotation)."""
        count = 0
        for row in await store.sealed_secrets():
            sealed = row["totp_secret_encrypted"]
            if self._box.is_current(sealed):
                continue
            user_id = str(row["id"])
            try:
                fresh = self._box.encrypt(
                    self._box.decrypt(sealed, totp_context(user_id)), totp_context(user_id)
                )
            except DecryptionError:
                raise StorageError(
                    f"the TOTP seed of user {row['id']} opens with no configured key"
                ) from None
            # Not audited (it never was): the seed is the same, only its sealing changes.
            async with self._changes.apply(context):
                await store.reseal(user_id, sealed, fresh)
            count += 1
        return count


async def _user(user_id: str) -> dict[str, Any]:
    row = await store.user(user_id)
    if row is None:
        raise AuthenticationError("this account no longer exists")
    return row
