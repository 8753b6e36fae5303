"""Run the real ``inferia`` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx  # test-side only: the SDK's own HTTP client

INFERIA = [sys.executable, "-m", "inferia.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def inferia_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """Environment for a child ``inferia``: a private data dir plus INFERIA_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFERIA_")}
    env["INFERIA_DATA_DIR"] = str(data_dir)
    env.update(settings)
    return env


def run_cli(
    args: list[str], env: dict[str, str], timeout: float = 60, *, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``stdin``: what the command reads (a pipe, not a terminal); none by default."""
    return subprocess.run(
        [*INFERIA, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        input=stdin if stdin is not None else "",
    )


class InferiaServer:
    """``inferia serve`` on a free port, and a free gRPC port of its own (a one-worker
    server binds it alone); stderr goes to a file the test can read."""

    def __init__(
        self,
        env: dict[str, str],
        args: list[str] | None = None,
        port: int | None = None,
        *,
        default_port: bool = False,
    ):
        """``default_port``: pass no --port and expect the plane's own default ``port``."""
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {"INFERIA_SERVER__GRPC_PORT": str(free_port()), **env}
        port_args = [] if default_port else ["--port", str(self.port)]
        self.args = ["serve", *port_args, *(args or [])]
        # Lives as long as the server; closed and removed in __exit__.
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix="inferia-serve-", suffix=".log", delete=False
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> InferiaServer:
        self.process = subprocess.Popen(
            [*INFERIA, *self.args], env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"inferia serve exited with {self.process.returncode}:\n{self.output}"
                )
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"inferia serve did not become healthy:\n{self.output}")

    @property
    def output(self) -> str:
        return Path(self._log.name).read_text(errors="replace")

    def stop(self, timeout: float = 15) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(5)

    def __enter__(self) -> InferiaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._log.close()
        os.unlink(self._log.name)


def wait_until(
    predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.05
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError("condition not reached in time")


def child_processes(pid: int) -> list[int]:
    """The live child processes of ``pid`` (granian's workers, for ``inferia serve``)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            children.append(int(stat.parent.name))
    return children
