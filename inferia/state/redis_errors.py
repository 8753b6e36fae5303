"""Turning redis-py failures into StateError at the edge of the Redis backend."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from redis.exceptions import RedisError

from inferia.core.errors import StateError

# redis-py wraps most socket failures, but a reset mid-read can surface as a
# bare OSError (ConnectionResetError, BrokenPipeError).
REDIS_FAILURES: tuple[type[Exception], ...] = (RedisError, OSError)


@contextmanager
def translate_errors(operation: str) -> Iterator[None]:
    """Re-raise any Redis failure inside the block as StateError naming ``operation``."""
    try:
        yield
    except REDIS_FAILURES as exc:
        raise StateError(f"Redis {operation} failed: {exc}") from exc
