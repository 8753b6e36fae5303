"""Deployment states and the one table of allowed moves between them.

PENDING -> PROVISIONING -> STARTING -> RUNNING is the happy path; DEGRADED means fewer
ready replicas than desired after having run; FAILED carries its reason; TERMINATING
ends in TERMINATED. Every transition anywhere goes through ``check_transition``.
"""

from __future__ import annotations

from enum import StrEnum

from inferia.core.errors import ConflictError


class DeploymentState(StrEnum):
    PENDING = "PENDING"
    PROVISIONING = "PROVISIONING"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    DEGRADED = "DEGRADED"
    FAILED = "FAILED"
    TERMINATING = "TERMINATING"
    TERMINATED = "TERMINATED"


S = DeploymentState
ALLOWED_MOVES: dict[DeploymentState, frozenset[DeploymentState]] = {
    S.PENDING: frozenset({S.PROVISIONING, S.FAILED, S.TERMINATING}),
    S.PROVISIONING: frozenset({S.STARTING, S.RUNNING, S.FAILED, S.TERMINATING}),
    S.STARTING: frozenset({S.PROVISIONING, S.RUNNING, S.FAILED, S.TERMINATING}),
    # RUNNING -> PROVISIONING: scaled up, the new replicas are being provisioned.
    S.RUNNING: frozenset({S.DEGRADED, S.PROVISIONING, S.FAILED, S.TERMINATING}),
    S.DEGRADED: frozenset({S.RUNNING, S.PROVISIONING, S.FAILED, S.TERMINATING}),
    # A failed deployment is only ever cleaned up (or re-scaled, which retries it).
    S.FAILED: frozenset({S.PROVISIONING, S.TERMINATING}),
    S.TERMINATING: frozenset({S.TERMINATED}),
    S.TERMINATED: frozenset(),
}
# States in which the deployment should have model servers.
ACTIVE_STATES = frozenset({S.PENDING, S.PROVISIONING, S.STARTING, S.RUNNING, S.DEGRADED})
# States whose replicas are not routed to (only RUNNING and DEGRADED route).
ROUTED_STATES = frozenset({S.RUNNING, S.DEGRADED})


def can_move(current: DeploymentState, target: DeploymentState) -> bool:
    return target in ALLOWED_MOVES[current]


def check_transition(current: DeploymentState, target: DeploymentState) -> None:
    """Raises ConflictError (409) for a move the table does not allow."""
    if not can_move(current, target):
        raise ConflictError(f"a deployment cannot go from {current} to {target}")
