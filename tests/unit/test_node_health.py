"""Node states from heartbeat silence, and node tokens."""

from __future__ import annotations

import pytest

from inferia.orchestration.nodes.health import NodeState, state_after_silence
from inferia.orchestration.nodes.tokens import PREFIX, NodeTokens


@pytest.mark.parametrize(
    ("silent_s", "state"),
    [
        (0, NodeState.READY),
        (29.9, NodeState.READY),
        (30, NodeState.UNKNOWN),
        (89.9, NodeState.UNKNOWN),
        (90, NodeState.LOST),
        (10_000, NodeState.LOST),
    ],
)
def test_state_after_silence(silent_s: float, state: NodeState) -> None:
    assert state_after_silence(silent_s, 30, 90) == state


def test_tokens_are_random_and_only_their_digest_is_kept() -> None:
    tokens = NodeTokens("an encryption key of the installation")
    first, digest = tokens.issue()
    second, _ = tokens.issue()
    assert first.startswith(PREFIX) and first != second
    assert digest == tokens.digest(first) and first not in digest
    # Another installation's secret gives other digests: a token works in one place only.
    assert NodeTokens("another key").digest(first) != digest
