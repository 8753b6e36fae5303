"""Node states from heartbeat silence: READY, then UNKNOWN, then LOST.

A node is UNKNOWN after ``heartbeat_timeout_s`` without a heartbeat (it may only be
slow: its replicas stay), LOST after ``node_lost_after_s`` (the reconciler replaces the
replicas it ran). A heartbeat makes it READY again.
"""

from __future__ import annotations

from enum import StrEnum


class NodeState(StrEnum):
    READY = "READY"
    UNKNOWN = "UNKNOWN"
    LOST = "LOST"


def state_after_silence(
    silent_s: float, heartbeat_timeout_s: float, lost_after_s: float
) -> NodeState:
    if silent_s >= lost_after_s:
        return NodeState.LOST
    if silent_s >= heartbeat_timeout_s:
        return NodeState.UNKNOWN
    return NodeState.READY
