"""One model server subprocess, kept running: restarted with backoff when it crashes.

Output goes straight to a log file (the deployment's logs; any process on this machine
can read it). Stopping sends SIGTERM to the server's process group, then SIGKILL after
the grace period. On Linux the server also gets SIGKILL if the Inferia process that
started it dies without stopping it (PR_SET_PDEATHSIG): nothing is left running.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import sys
import time
from pathlib import Path

from inferia.orchestration.adapters.protocol import ReplicaPhase

log = logging.getLogger(__name__)
# A server that exits this many times in a row without staying up STABLE_S is failed.
MAX_QUICK_EXITS = 3
STABLE_S = 30.0
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class ModelServer:
    def __init__(
        self,
        argv: list[str],
        env: dict[str, str],
        log_path: Path,
        *,
        stop_grace_s: float,
        backoff_s: float,
        backoff_max_s: float,
    ) -> None:
        self.argv = argv
        self._env = env
        self.log_path = log_path
        self._grace = stop_grace_s
        self._backoff = backoff_s
        self._backoff_max = backoff_max_s
        self.phase: ReplicaPhase = "starting"
        self.restarts = 0
        self.detail = ""
        self._process: asyncio.subprocess.Process | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> None:
        self._supervisor = asyncio.create_task(self._supervise())

    async def _spawn(self) -> asyncio.subprocess.Process:
        with self.log_path.open("ab") as out:
            out.write(f"--- starting: {self.argv[0]} (restart {self.restarts})\n".encode())
            out.flush()
            return await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                env=self._env,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    async def _supervise(self) -> None:
        quick_exits = 0
        delay = self._backoff
        while not self._stopping:
            try:
                self._process = await self._spawn()
            except OSError as exc:
                self.phase, self.detail = "failed", f"could not start the server: {exc}"
                return
            self.phase = "running"
            started = time.monotonic()
            code = await self._process.wait()
            if self._stopping:
                return
            lived = time.monotonic() - started
            if lived < STABLE_S:
                quick_exits += 1
            else:
                quick_exits, delay = 1, self._backoff
            self.detail = f"the server exited with code {code} after {lived:.1f} s"
            if quick_exits >= MAX_QUICK_EXITS:
                self.phase = "failed"
                self.detail += f" ({quick_exits} times in a row); see the deployment's logs"
                return
            log.warning("%s; restarting in %.1f s", self.detail, delay)
            self.phase = "restarting"
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._backoff_max)
            self.restarts += 1

    async def stop(self) -> None:
        """SIGTERM to the process group, SIGKILL after the grace period; idempotent."""
        self._stopping = True
        # The supervisor first, so it cannot start another process meanwhile.
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        process = self._process
        if process is not None and process.returncode is None:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                async with asyncio.timeout(self._grace):
                    await process.wait()
            except TimeoutError:
                _signal_group(process.pid, signal.SIGKILL)
                await process.wait()
        self.phase = "gone"


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)
