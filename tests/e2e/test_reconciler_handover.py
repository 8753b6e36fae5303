"""Two ``inferia serve`` processes on one PostgreSQL database and one Redis: exactly one
reconciles (the lease). SIGKILL the leader while a replica is still starting: the other
process takes the lease within its time and finishes the deployment, provisioning the
replica once, under the same id; nothing of the dead leader is left running."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.orchestration_support import admin, orchestration_env, wait_for
from tests.e2e.test_orchestration import server_pids, tiny_model
from tests.processes import InferiaServer
from tests.services import redis_db_url, scratch_postgres_database

pytestmark = pytest.mark.e2e
LEASE_TTL_S = 2.0


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    async with scratch_postgres_database() as url:
        yield url


def parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def owner(pid: int, servers: list[InferiaServer]) -> InferiaServer:
    """The ``inferia serve`` whose process tree holds ``pid``."""
    roots = {server.process.pid: server for server in servers if server.process}
    while pid > 1:
        if pid in roots:
            return roots[pid]
        pid = parent_of(pid)
    raise AssertionError("the model server belongs to neither inferia process")


async def test_a_new_leader_finishes_what_a_killed_one_started(
    tmp_path: Path, postgres_url: str
) -> None:
    shared = {
        "INFERIA_DATABASE__URL": postgres_url,
        "INFERIA_DATABASE__MIGRATE_ON_START": "true",
        "INFERIA_STATE__URL": redis_db_url(),
        "INFERIA_ORCHESTRATION__LEASE_TTL_S": str(LEASE_TTL_S),
        "INFERIA_ORCHESTRATION__READINESS_TIMEOUT_S": "60",
    }
    # One data directory: the same secrets (and the local adapter's log folder).
    servers = [InferiaServer(orchestration_env(tmp_path, **shared)) for _ in range(2)]
    try:
        for server in servers:
            server.start(timeout=120)
        user = admin(servers[0])
        pool = user.create_pool("handover")
        model = tiny_model("handover", "1", "--ready-after", "3")
        assert user.call("POST", "/deployment/registerModel", json=model).status_code == 201
        deployment = user.call(
            "POST",
            "/deployment/deploy",
            json={"model": "handover", "version": "1", "pool_id": pool["id"]},
        ).json()
        wait_for(lambda: len(server_pids("handover")) == 1, 10, "a model server started")
        assert user.status(deployment["id"])["state"] in ("PROVISIONING", "STARTING")
        (first_pid,) = server_pids("handover")
        leader = owner(first_pid, servers)
        survivor = next(s for s in servers if s is not leader)

        # The leader dies mid-provisioning (its worker and its main process).
        worker = parent_of(first_pid)
        assert leader.process is not None
        os.kill(leader.process.pid, signal.SIGKILL)
        os.kill(worker, signal.SIGKILL)
        killed = time.monotonic()
        wait_for(lambda: first_pid not in server_pids("handover"), 5, "its server died with it")

        user.server = survivor  # the same database: the token works there
        wait_for(lambda: len(server_pids("handover")) == 1, 3 * LEASE_TTL_S + 5, "taken over")
        took = time.monotonic() - killed
        print(f"a new leader provisioned after {took:.1f} s (lease {LEASE_TTL_S:g} s)")
        (second_pid,) = server_pids("handover")
        assert owner(second_pid, servers) is survivor
        status = user.wait_state(deployment["id"], "RUNNING", timeout=30)
        assert status["replicas"] == {"desired": 1, "ready": 1}
        assert "FAILED" not in [e["to"] for e in status["events"]]
        # Provisioned once, under the id stored before the first attempt.
        logs = tmp_path / "compute-local" / "logs" / deployment["id"]
        assert len(list(logs.glob("*.log"))) == 1
        assert server_pids("handover") == [second_pid]

        user.call("POST", f"/deployment/terminate/{deployment['id']}")
        user.wait_state(deployment["id"], "TERMINATED", timeout=20)
        assert server_pids("handover") == []
    finally:
        for server in servers:
            server.__exit__()
