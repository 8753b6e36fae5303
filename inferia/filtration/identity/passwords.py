"""Argon2id hashing for human passwords (API keys use HMAC, see docs/security.md).

One hash costs ~0.2-0.3 s of CPU with the defaults: call these methods through
``asyncio.to_thread`` from async code, and never on the request path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

if TYPE_CHECKING:
    from inferia.config import AuthSettings


class PasswordHasher:
    """argon2id with argon2-cffi's recommended parameters unless told otherwise."""

    def __init__(
        self,
        *,
        time_cost: int = argon2.DEFAULT_TIME_COST,
        memory_cost: int = argon2.DEFAULT_MEMORY_COST,
        parallelism: int = argon2.DEFAULT_PARALLELISM,
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            type=argon2.Type.ID,
        )

    @classmethod
    def from_settings(cls, auth: AuthSettings) -> PasswordHasher:
        """The hasher ``[auth]`` configures (tests use cheap parameters)."""
        return cls(
            time_cost=auth.argon2_time_cost,
            memory_cost=auth.argon2_memory_kib,
            parallelism=auth.argon2_parallelism,
        )

    def hash(self, password: str) -> str:
        """A PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash) with a random salt."""
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        """True if ``password`` matches; False for a wrong password or a malformed hash."""
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters than this hasher's.

        Check after a successful ``verify`` and store a fresh ``hash``; a hash that
        cannot be parsed also needs replacing.
        """
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True
