"""Login throttling on the state backend: failures counted per account and per address.

Fixed windows (``auth.login_window_s``): after ``login_max_failures_per_account``
failed logins for one e-mail, or ``login_max_failures_per_address`` from one client
address, further attempts get 429 with ``Retry-After`` until the window ends. The
account key is a hash of the e-mail, so unknown addresses are throttled the same
way as known ones (no hint about which accounts exist), and no e-mail sits in Redis.

An attempt is counted *before* its credentials are checked: ``reserve`` checks both
bounds and counts the attempt in one atomic script, so a concurrent burst gets at
most the bound's worth of guesses (checking first and counting after the slow
password hash let every request of a burst through). An attempt that turns out not
to be a wrong guess gives its place back (``release``); a successful login clears
the account's count (``succeeded``).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from inferia.config import AuthSettings
from inferia.core.errors import RateLimitedError
from inferia.state import AtomicScript, LocalStore, ScriptArg, StateBackend

_PREFIX = "inferia:auth:login-failures"

# keys: [account, address]; args: [max per account, max per address, ttl ms].
# Returns 0 (counted), 1 (the account is at its bound) or 2 (the address is).
_RESERVE_LUA = """
local account = tonumber(redis.call('GET', KEYS[1]) or '0')
local address = tonumber(redis.call('GET', KEYS[2]) or '0')
if account >= tonumber(ARGV[1]) then return 1 end
if address >= tonumber(ARGV[2]) then return 2 end
for _, key in ipairs(KEYS) do
  redis.call('INCR', key)
  if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, ARGV[3]) end
end
return 0
"""


def _reserve_local(
    store: LocalStore, keys: Sequence[str], args: Sequence[ScriptArg], now: float
) -> int:
    account, address = (int(store.get(key) or 0) for key in keys[:2])
    if account >= int(args[0]):
        return 1
    if address >= int(args[1]):
        return 2
    for key in keys[:2]:
        store.incr(key)
        if store.ttl(key) is None:
            store.expire(key, int(args[2]) / 1000)
    return 0


RESERVE_LOGIN_ATTEMPT = AtomicScript(
    name="reserve_login_attempt", lua=_RESERVE_LUA, local=_reserve_local
)


@dataclass(frozen=True, slots=True)
class Attempt:
    """A counted attempt: the counters (of its window) it was counted in."""

    account_key: str
    address_key: str


class LoginThrottle:
    def __init__(self, state: StateBackend, auth: AuthSettings) -> None:
        self._state = state
        self._window_s = auth.login_window_s
        self._max_account = auth.login_max_failures_per_account
        self._max_address = auth.login_max_failures_per_address
        # Counters outlive their window a little; a give-back never leaves a key forever.
        self._ttl_s = self._window_s + 5

    async def reserve(self, email: str, address: str | None) -> Attempt:
        """Count one attempt, or refuse it (429) when a bound is reached."""
        now = time.time()
        window = int(now // self._window_s)
        account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        attempt = Attempt(
            f"{_PREFIX}:account:{account}:{window}",
            f"{_PREFIX}:address:{address or '-'}:{window}",
        )
        ttl_ms = self._ttl_s * 1000
        refused = await self._state.run_script(
            RESERVE_LOGIN_ATTEMPT,
            (attempt.account_key, attempt.address_key),
            (self._max_account, self._max_address, ttl_ms),
        )
        if refused:
            whose = "for this account" if int(refused) == 1 else "from this address"
            raise RateLimitedError(
                f"too many failed logins {whose}; try again later",
                retry_after_s=(window + 1) * self._window_s - now,
            )
        return attempt

    @asynccontextmanager
    async def guessing(
        self, email: str, address: str | None, wrong: type[Exception]
    ) -> AsyncIterator[None]:
        """A credential check that is not a login (changing a password, disabling 2FA, ...):
        counted before the check, kept when ``wrong`` (a wrong guess) is raised, given
        back otherwise."""
        attempt = await self.reserve(email, address)
        wrong_guess = False
        try:
            yield
        except wrong:
            wrong_guess = True
            raise
        finally:
            if not wrong_guess:
                await self.release(attempt)

    async def release(self, attempt: Attempt) -> None:
        """The attempt was not a wrong guess: it does not count."""
        await self._state.incr(attempt.account_key, -1, ttl_s=self._ttl_s)
        await self._state.incr(attempt.address_key, -1, ttl_s=self._ttl_s)

    async def succeeded(self, attempt: Attempt) -> None:
        """The right credentials: the account's failures are forgiven."""
        count = await self._state.get_int(attempt.account_key)
        if count:
            await self._state.incr(attempt.account_key, -count, ttl_s=self._ttl_s)
        await self._state.incr(attempt.address_key, -1, ttl_s=self._ttl_s)
