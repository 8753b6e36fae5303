"""The table of allowed deployment moves."""

from __future__ import annotations

import pytest

from inferia.core.errors import ConflictError
from inferia.orchestration.deployments.lifecycle import (
    ALLOWED_MOVES,
    DeploymentState,
    can_move,
    check_transition,
)

S = DeploymentState


def test_every_state_has_a_row() -> None:
    assert set(ALLOWED_MOVES) == set(DeploymentState)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.PENDING, S.PROVISIONING),
        (S.PROVISIONING, S.STARTING),
        (S.STARTING, S.RUNNING),
        (S.RUNNING, S.DEGRADED),
        (S.DEGRADED, S.RUNNING),
        (S.STARTING, S.FAILED),
        (S.RUNNING, S.TERMINATING),
        (S.FAILED, S.TERMINATING),
        (S.TERMINATING, S.TERMINATED),
    ],
)
def test_the_lifecycle_moves_are_allowed(current: S, target: S) -> None:
    assert can_move(current, target)
    check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.PENDING, S.RUNNING),
        (S.TERMINATED, S.PENDING),
        (S.TERMINATED, S.RUNNING),
        (S.TERMINATING, S.RUNNING),
        (S.FAILED, S.RUNNING),
        (S.RUNNING, S.PENDING),
    ],
)
def test_forbidden_moves_are_conflicts(current: S, target: S) -> None:
    assert not can_move(current, target)
    with pytest.raises(ConflictError, match=f"from {current} to {target}"):
        check_transition(current, target)


def test_terminated_is_final_and_every_live_state_can_terminate() -> None:
    assert ALLOWED_MOVES[S.TERMINATED] == frozenset()
    for state in set(DeploymentState) - {S.TERMINATING, S.TERMINATED}:
        assert can_move(state, S.TERMINATING)
