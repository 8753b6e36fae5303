"""Planes as separate processes, and the PrincipalResolver port crossing between them."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import InferiaServer, free_port, inferia_env, run_cli, wait_until

pytestmark = pytest.mark.e2e


def create_key(env: dict[str, str], *extra: str) -> str:
    result = run_cli(["keys", "create", "--name", "e2e", *extra], env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


class ConnectionRecorder:
    """A TCP listener that only counts the connections made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()


@pytest.fixture
def recorder() -> Iterator[ConnectionRecorder]:
    rec = ConnectionRecorder()
    yield rec
    rec.sock.close()


def test_inference_plane_resolves_keys_through_the_remote_port(tmp_path: Path) -> None:
    filtration_port = free_port()
    shared = {"INFERIA_LOGGING__ACCESS_LOG": "true"}
    filtration_env = inferia_env(tmp_path, **shared)
    inference_env = inferia_env(
        tmp_path, INFERIA_REMOTE__FILTRATION_URL=f"http://127.0.0.1:{filtration_port}", **shared
    )
    with (
        InferiaServer(
            filtration_env, ["--plane", "filtration"], port=filtration_port
        ) as filtration,
        InferiaServer(inference_env, ["--plane", "inference"]) as inference,
    ):
        key = create_key(filtration_env)
        # The inference process has no database: readiness checks its state backend and
        # the filtration plane it depends on.
        ready = httpx.get(f"{inference.base_url}/ready").json()["checks"]
        assert ready == {"state": "ok", "filtration": "ok"}
        # The inference plane serves /v1 only; the filtration plane's paths are not there.
        assert httpx.post(f"{inference.base_url}/internal/principals/resolve").status_code == 404

        ok = httpx.get(
            f"{inference.base_url}/v1/models", headers={"authorization": f"Bearer {key}"}
        )
        assert ok.status_code == 200, ok.text
        # The access log line may reach the pipe just after the response.
        wait_until(lambda: "POST /internal/principals/resolve" in filtration.output, timeout=5)

        bad = httpx.get(
            f"{inference.base_url}/v1/models", headers={"authorization": "Bearer sk-inf-nope"}
        )
        assert bad.status_code == 401
        assert bad.json()["error"]["type"] == "authentication_error"

        revoked = run_cli(["keys", "revoke", key.split("-")[2]], filtration_env)
        assert revoked.returncode == 0, revoked.stderr
        # Memory state: the remote cache keeps entries 1 s, so the revocation is seen quickly.
        import time

        deadline = time.monotonic() + 3
        status = 200
        while time.monotonic() < deadline and status == 200:
            status = httpx.get(
                f"{inference.base_url}/v1/models", headers={"authorization": f"Bearer {key}"}
            ).status_code
            time.sleep(0.1)
        assert status == 401


def test_unreachable_filtration_plane_is_a_503_not_a_500(tmp_path: Path) -> None:
    env = inferia_env(tmp_path, INFERIA_REMOTE__FILTRATION_URL=f"http://127.0.0.1:{free_port()}")
    with InferiaServer(env, ["--plane", "inference"]) as inference:
        reply = httpx.get(
            f"{inference.base_url}/v1/models",
            headers={"authorization": "Bearer sk-inf-" + "a" * 56},
        )
        assert reply.status_code == 503
        assert reply.json()["error"]["type"] == "server_error"
        # ... and the process says it is not ready, so a load balancer sends nothing.
        ready = httpx.get(f"{inference.base_url}/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"] == {"state": "ok", "filtration": "unavailable"}


def test_one_process_makes_no_network_call_between_planes(
    tmp_path: Path, recorder: ConnectionRecorder
) -> None:
    # Point the remote address at a listener: a monolith must never connect to it.
    env = inferia_env(tmp_path, INFERIA_REMOTE__FILTRATION_URL=f"http://127.0.0.1:{recorder.port}")
    with InferiaServer(env) as server:
        key = create_key(env)
        for _ in range(3):
            reply = httpx.get(
                f"{server.base_url}/v1/models", headers={"authorization": f"Bearer {key}"}
            )
            assert reply.status_code == 200, reply.text
    assert recorder.connections == 0


def test_single_planes_listen_on_their_own_default_ports(tmp_path: Path) -> None:
    env = inferia_env(tmp_path, INFERIA_REMOTE__FILTRATION_URL="http://127.0.0.1:8000")
    with (
        InferiaServer(env, ["--plane", "filtration"], port=8000, default_port=True),
        InferiaServer(env, ["--plane", "inference"], port=8001, default_port=True) as inference,
    ):
        key = create_key(env)
        reply = httpx.get(
            f"{inference.base_url}/v1/models", headers={"authorization": f"Bearer {key}"}
        )
        assert reply.status_code == 200
