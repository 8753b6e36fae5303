"""Login throttling on the state backend: failures counted per account and per address.

Fixed windows (``auth.login_window_s``): after ``login_max_failures_per_account``
failed logins for one e-mail, or ``login_max_failures_per_address`` from one client
address, further attempts get 429 with ``Retry-After`` until the window ends. The
account key is a hash of the e-mail, so unknown addresses are throttled the same
way as known ones (no hint about which accounts exist), and no e-mail sits in Redis.
A successful login clears the account's count.
"""

from __future__ import annotations

import hashlib
import time

from inferia.config import AuthSettings
from inferia.core.errors import RateLimitedError
from inferia.state import StateBackend

_PREFIX = "inferia:auth:login-failures"


class LoginThrottle:
    def __init__(self, state: StateBackend, auth: AuthSettings) -> None:
        self._state = state
        self._window_s = auth.login_window_s
        self._max_account = auth.login_max_failures_per_account
        self._max_address = auth.login_max_failures_per_address

    def _keys(self, email: str, address: str | None) -> tuple[str, str, float]:
        now = time.time()
        window = int(now // self._window_s)
        account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        retry_after = (window + 1) * self._window_s - now
        return (
            f"{_PREFIX}:account:{account}:{window}",
            f"{_PREFIX}:address:{address or '-'}:{window}",
            retry_after,
        )

    async def check(self, email: str, address: str | None) -> None:
        account_key, address_key, retry_after = self._keys(email, address)
        if await self._state.get_int(account_key) >= self._max_account:
            raise RateLimitedError(
                "too many failed logins for this account; try again later",
                retry_after_s=retry_after,
            )
        if await self._state.get_int(address_key) >= self._max_address:
            raise RateLimitedError(
                "too many failed logins from this address; try again later",
                retry_after_s=retry_after,
            )

    async def failed(self, email: str, address: str | None) -> None:
        account_key, address_key, _ = self._keys(email, address)
        ttl = self._window_s + 5
        await self._state.incr(account_key, 1, ttl_s=ttl)
        await self._state.incr(address_key, 1, ttl_s=ttl)

    async def succeeded(self, email: str, address: str | None) -> None:
        account_key, _, _ = self._keys(email, address)
        count = await self._state.get_int(account_key)
        if count:
            await self._state.incr(account_key, -count)
