"""Counters, pub/sub and streams: Redis when shared, memory when embedded."""

from inferia.state.backlog import StreamBacklog
from inferia.state.base import (
    EVERYTHING_CHANGED,
    AtomicScript,
    MessageHandler,
    ScriptArg,
    ScriptCall,
    StateBackend,
    StateOp,
    StreamAppend,
    StreamMessage,
    Subscription,
)
from inferia.state.factory import build_state_backend
from inferia.state.local_store import LocalStore
from inferia.state.memory import MemoryStateBackend
from inferia.state.redis_backend import RedisStateBackend
from inferia.state.scripts import SLIDING_WINDOW_ADMIT
from inferia.state.stream_consumer import StreamConsumer, WriteBatch

__all__ = [
    "EVERYTHING_CHANGED",
    "SLIDING_WINDOW_ADMIT",
    "AtomicScript",
    "LocalStore",
    "MemoryStateBackend",
    "MessageHandler",
    "RedisStateBackend",
    "ScriptArg",
    "ScriptCall",
    "StateBackend",
    "StateOp",
    "StreamAppend",
    "StreamBacklog",
    "StreamConsumer",
    "StreamMessage",
    "Subscription",
    "WriteBatch",
    "build_state_backend",
]
