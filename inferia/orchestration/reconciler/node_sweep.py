"""The leader's sweep of the inventory: nodes silent too long become UNKNOWN, then
LOST. Replicas on a LOST node are replaced by the deployment pass."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from inferia.orchestration.nodes.health import NodeState, state_after_silence
from inferia.orchestration.nodes.store import NodeStore

log = logging.getLogger(__name__)


class NodeSweep:
    def __init__(self, store: NodeStore, heartbeat_timeout_s: float, lost_after_s: float) -> None:
        self._store = store
        self._timeout_s = heartbeat_timeout_s
        self._lost_after_s = lost_after_s

    async def run(self) -> int:
        """Marks silent nodes; returns how many became LOST."""
        now = datetime.now(UTC)
        lost = 0
        for node in await self._store.unsettled():
            seen = node["last_heartbeat"] or node["created_at"]
            silent = (now - (seen if seen.tzinfo else seen.replace(tzinfo=UTC))).total_seconds()
            state = state_after_silence(silent, self._timeout_s, self._lost_after_s)
            if state == node["state"] or state == NodeState.READY:
                continue
            if await self._store.set_state(node["id"], state, node["state"]):
                log.warning("node %s: %s (silent for %.0f s)", node["id"], state, silent)
                lost += state == NodeState.LOST
        return lost
