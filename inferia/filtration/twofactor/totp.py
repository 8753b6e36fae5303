"""TOTP second factor (RFC 6238 via pyotp) and recovery codes.

pyotp's ``verify`` says yes or no; replay protection needs to know WHICH time step
matched, so ``match_step`` checks each step of the window itself (constant-time
compares). The caller stores the accepted step and refuses that step or an earlier
one next time: each code is accepted once.

Recovery codes carry 80 random bits, so a plain SHA-256 is enough to store them
(a slow hash protects guessable secrets, not random ones).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import pyotp

PERIOD_S = 30
DIGITS = 6
RECOVERY_CODE_COUNT = 10


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, RFC 4226's recommendation


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD_S).provisioning_uri(
        name=account, issuer_name=issuer
    )


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // PERIOD_S)


def match_step(secret: str, code: str, window: int, now: float | None = None) -> int | None:
    """The time step ``code`` belongs to, within ``window`` steps of now, else None."""
    code = code.strip().replace(" ", "")
    # ASCII digits only: str.isdigit() also accepts other scripts' digits, which the
    # comparison below cannot take.
    if len(code) != DIGITS or not (code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD_S)
    step = current_step(now)
    matched = None
    for candidate in range(step - window, step + window + 1):
        # No early exit: the time taken does not say which step matched.
        if hmac.compare_digest(totp.at(candidate * PERIOD_S), code):
            matched = candidate
    return matched


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """Codes like ``ABCD-EFGH-IJKL-MNOP`` (80 bits each), shown to the user once."""
    codes = []
    for _ in range(count):
        raw = base64.b32encode(secrets.token_bytes(10)).decode()
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def recovery_code_digest(code: str) -> str:
    normalised = code.strip().upper().replace("-", "").replace(" ", "")
    return hashlib.sha256(b"inferia-recovery:" + normalised.encode()).hexdigest()


def looks_like_recovery_code(code: str) -> bool:
    return len(code.strip().replace("-", "").replace(" ", "")) == 16
