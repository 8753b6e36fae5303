"""Choosing the state backend from ``state.url``."""

from __future__ import annotations

from urllib.parse import urlsplit

from inferia.core.errors import ConfigError
from inferia.state.base import StateBackend
from inferia.state.memory import MemoryStateBackend
from inferia.state.redis_backend import RedisStateBackend

_REDIS_SCHEMES = frozenset({"redis", "rediss", "unix"})


def build_state_backend(url: str) -> StateBackend:
    """An empty URL means in-process memory; redis://, rediss://, unix:// mean Redis."""
    url = url.strip()
    if not url:
        return MemoryStateBackend()
    scheme = urlsplit(url).scheme.lower()
    if scheme not in _REDIS_SCHEMES:
        # Name only the scheme: the URL itself may carry a password.
        raise ConfigError(
            f"state.url must be empty (in-process memory) or a redis://, rediss:// or "
            f"unix:// URL; got scheme {scheme or '(none)'!r}",
            param="state.url",
        )
    return RedisStateBackend(url)
