"""Keep secrets out of audit details, whatever a caller passes.

Details are meant to be small, non-secret facts. As a second line of defence,
values under secret-sounding keys are replaced and anything shaped like an Inferia
API key, a JWT or a bearer token is masked before the row is written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_SECRET_KEY_RE = re.compile(
    r"pass(word)?|secret|token|totp|code|otp|key$|^key|credential|pepper|hash", re.IGNORECASE
)
# Keys known to hold non-secret values even though they match the pattern above.
_ALLOWED_KEYS = frozenset({"key_id", "key_prefix", "reason", "error_code", "api_key_id"})
_SECRET_VALUE_RE = re.compile(
    r"sk-inf-[A-Za-z0-9]+-[A-Za-z0-9]+"  # API keys
    r"|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"  # JWTs
    r"|rt_[A-Za-z0-9_-]{20,}"  # refresh tokens
    r"|inv_[A-Za-z0-9_-]{20,}"  # invitation tokens
)
MASK = "[redacted]"
_MAX_STRING = 500


def redact(details: Mapping[str, Any] | None) -> dict[str, Any]:
    if not details:
        return {}
    return {str(k): _clean(str(k), v) for k, v in details.items()}


def _clean(key: str, value: Any) -> Any:
    if key not in _ALLOWED_KEYS and _SECRET_KEY_RE.search(key):
        return MASK
    if isinstance(value, str):
        return _SECRET_VALUE_RE.sub(MASK, value)[:_MAX_STRING]
    if isinstance(value, Mapping):
        return {str(k): _clean(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(key, v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return _SECRET_VALUE_RE.sub(MASK, str(value))[:_MAX_STRING]
