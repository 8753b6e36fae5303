"""Queries of the second-factor columns of the users table. The changing ones run
inside the caller's transaction."""

from __future__ import annotations

import json
from typing import Any

from inferia.db.errors import wrap_errors
from inferia.filtration.identity.tables import User

# Each failed try means another recovery code of the same account was used meanwhile.
_RECOVERY_CODE_ATTEMPTS = 10


async def user(user_id: str) -> dict[str, Any] | None:
    async with wrap_errors():
        row: dict[str, Any] | None = await User.select().where(User.id == user_id).first()
    return row


async def set_secret(user_id: str, sealed: str) -> None:
    await User.update({User.totp_secret_encrypted: sealed, User.totp_last_step: None}).where(
        User.id == user_id
    )


async def enable(user_id: str, step: int, recovery_digests: list[str]) -> None:
    await User.update(
        {
            User.totp_enabled: True,
            User.totp_last_step: step,
            User.recovery_codes: json.dumps(recovery_digests),
        }
    ).where(User.id == user_id)


async def disable(user_id: str) -> None:
    await User.update(
        {
            User.totp_enabled: False,
            User.totp_secret_encrypted: None,
            User.totp_last_step: None,
            User.recovery_codes: "[]",
        }
    ).where(User.id == user_id)


async def claim_step(user_id: str, step: int) -> bool:
    """Raise the last accepted time step to ``step``; False if it is already there or past
    (a conditional UPDATE: two requests racing with one code cannot both win)."""
    claimed = (
        await User.update({User.totp_last_step: step})
        .where(
            (User.id == user_id) & (User.totp_last_step.is_null() | (User.totp_last_step < step))
        )
        .returning(User.id)
    )
    return bool(claimed)


async def take_recovery_code(user_id: str, digest: str) -> bool:
    """Remove one recovery code's digest; False if it is not (or no longer) there.

    The list is replaced only if it is still the one read (a conditional UPDATE): two
    logins racing with one code cannot both remove it. When another change to the list
    got in between (another code used), read it again."""
    for _ in range(_RECOVERY_CODE_ATTEMPTS):
        row = await User.select(User.recovery_codes).where(User.id == user_id).first()
        stored: str = row["recovery_codes"] if row else "[]"
        codes: list[str] = json.loads(stored)
        if digest not in codes:
            return False
        codes.remove(digest)
        replaced = (
            await User.update({User.recovery_codes: json.dumps(codes)})
            .where((User.id == user_id) & (User.recovery_codes == stored))
            .returning(User.id)
        )
        if replaced:
            return True
    return False


async def sealed_secrets() -> list[dict[str, Any]]:
    """Every stored TOTP seed: ``id`` and ``totp_secret_encrypted``."""
    async with wrap_errors():
        rows: list[dict[str, Any]] = await User.select(User.id, User.totp_secret_encrypted).where(
            User.totp_secret_encrypted.is_not_null()
        )
    return rows


async def reseal(user_id: str, sealed: str, fresh: str) -> None:
    """Replace the seed, unless it changed since it was read."""
    await User.update({User.totp_secret_encrypted: fresh}).where(
        (User.id == user_id) & (User.totp_secret_encrypted == sealed)
    )
