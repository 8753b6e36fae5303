"""Soak: mixed traffic at a steady rate against a real ``inferia serve`` (issue 17, item 26).

Embedded backends (SQLite + memory), the fake upstream, one worker. Every tenth request
of each ten: five non-streamed, three streamed, one refused by a guardrail (a deny-list
word: 400 ``content_blocked``), one on a key whose ``rpm`` the rate exceeds (200 or 429).
Every ``--sample-s`` seconds the server's RSS, open fds and TCP connections (its process
and its workers) and the interval's latencies are sampled; at the end the slopes per
minute are printed, and every answered request's usage record is looked up.

    python -m tests.perf.soak --duration 600 --rate 20

``tests/e2e/test_soak.py`` runs a short version (60 s) with the suite. Figures of the last long run:
docs/reliability.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.fake_upstream import FakeUpstream
from tests.e2e.gateway_fixtures import PLANES, write_config
from tests.processes import InferiaServer, child_processes, free_port, inferia_env, run_cli

BLOCKED_WORD = "project falcon"
LIMITED_RPM = 10
# What each kind of request may answer; anything else is an error.
ALLOWED = {
    "plain": {200},
    "stream": {200},
    "guardrail": {400},
    "limited": {200, 429},
}
KINDS = ["plain"] * 5 + ["stream"] * 3 + ["guardrail", "limited"]


@dataclass
class Sample:
    at_s: float
    rss_mb: float
    fds: int
    connections: int
    requests: int
    p50_ms: float
    p99_ms: float


@dataclass
class SoakReport:
    duration_s: float
    rate: float
    statuses: dict[str, dict[int, int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    served_ids: list[str] = field(default_factory=list)
    missing_usage: int = 0

    def slope(self, name: str) -> float:
        """Least-squares slope of a sampled figure, per minute, the first fifth (warm-up)
        left out."""
        points = self.samples[len(self.samples) // 5 :]
        if len(points) < 2:
            return 0.0
        xs = [p.at_s / 60 for p in points]
        ys = [float(getattr(p, name)) for p in points]
        return float(statistics.linear_regression(xs, ys).slope)

    def summary(self) -> str:
        lines = [f"soak: {self.duration_s:.0f} s at {self.rate:g} req/s"]
        for kind, counts in sorted(self.statuses.items()):
            lines.append(f"  {kind}: {dict(sorted(counts.items()))}")
        lines.append(f"  errors: {len(self.errors)} {self.errors[:5]}")
        lines.append(
            f"  usage records missing: {self.missing_usage} of {len(self.served_ids)} answered"
        )
        lines.append("  t(s)  rss(MB)  fds  conns  reqs  p50(ms)  p99(ms)")
        for s in self.samples:
            lines.append(
                f"  {s.at_s:5.0f} {s.rss_mb:8.1f} {s.fds:4d} {s.connections:6d} "
                f"{s.requests:5d} {s.p50_ms:8.1f} {s.p99_ms:8.1f}"
            )
        lines.append(
            "  slopes per minute (after warm-up): "
            f"rss {self.slope('rss_mb'):+.3f} MB, fds {self.slope('fds'):+.3f}, "
            f"connections {self.slope('connections'):+.3f}, p50 {self.slope('p50_ms'):+.3f} ms, "
            f"p99 {self.slope('p99_ms'):+.3f} ms"
        )
        if self.samples:
            first, last = self.samples[0], self.samples[-1]
            lines.append(
                f"  first -> last sample: rss {first.rss_mb:.1f} -> {last.rss_mb:.1f} MB, "
                f"fds {first.fds} -> {last.fds}, connections {first.connections} -> "
                f"{last.connections}"
            )
        return "\n".join(lines)


def _process_figures(pid: int) -> tuple[float, int, int]:
    """(RSS in MB, open fds, TCP sockets) of ``pid`` and its children."""
    rss_kb, fds, sockets = 0, 0, 0
    for each in [pid, *child_processes(pid)]:
        try:
            status = Path(f"/proc/{each}/status").read_text()
            rss_kb += next(
                int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")
            )
            links = os.listdir(f"/proc/{each}/fd")
        except (OSError, StopIteration):
            continue
        fds += len(links)
        for fd in links:
            try:
                if os.readlink(f"/proc/{each}/fd/{fd}").startswith("socket:"):
                    sockets += 1
            except OSError:
                continue
    return rss_kb / 1024, fds, sockets


def _body(kind: str, index: int) -> dict[str, Any]:
    content = f"soak request {index}"
    if kind == "guardrail":
        content += f" about {BLOCKED_WORD}"
    body: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": content}]}
    if kind == "stream":
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


async def _one(
    client: httpx.AsyncClient, key: str, kind: str, index: int
) -> tuple[int, str, float]:
    started = time.monotonic()
    headers = {"authorization": f"Bearer {key}"}
    body = _body(kind, index)
    if kind == "stream":
        async with client.stream("POST", "/chat/completions", json=body, headers=headers) as r:
            data = b"".join([chunk async for chunk in r.aiter_bytes()])
            if r.status_code == 200 and not data.rstrip().endswith(b"[DONE]"):
                return -1, r.headers.get("x-request-id", ""), time.monotonic() - started
            return r.status_code, r.headers.get("x-request-id", ""), time.monotonic() - started
    reply = await client.post("/chat/completions", json=body, headers=headers)
    return reply.status_code, reply.headers.get("x-request-id", ""), time.monotonic() - started


async def _drive(
    server: InferiaServer, keys: dict[str, str], report: SoakReport, sample_s: float
) -> None:
    assert server.process is not None
    pid = server.process.pid
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
    latencies: list[float] = []
    tasks: set[asyncio.Task[None]] = set()
    async with httpx.AsyncClient(
        base_url=f"{server.base_url}/v1", limits=limits, timeout=60
    ) as client:

        async def one(kind: str, index: int) -> None:
            key = keys["limited" if kind == "limited" else "plain"]
            try:
                status, request_id, took = await _one(client, key, kind, index)
            except httpx.HTTPError as exc:
                report.errors.append(f"{kind}: {type(exc).__name__}: {exc}")
                return
            counts = report.statuses.setdefault(kind, {})
            counts[status] = counts.get(status, 0) + 1
            if status not in ALLOWED[kind]:
                report.errors.append(f"{kind}: status {status}")
            if status == 200:
                report.served_ids.append(request_id)
            latencies.append(took * 1000)

        started = time.monotonic()
        next_sample = started + sample_s
        index = 0
        while (now := time.monotonic()) < started + report.duration_s:
            # Steady rate: request ``index`` is due at ``started + index / rate``.
            due = started + index / report.rate
            if now >= next_sample:
                rss, fds, connections = _process_figures(pid)
                window = sorted(latencies)
                latencies.clear()
                report.samples.append(
                    Sample(
                        at_s=now - started,
                        rss_mb=rss,
                        fds=fds,
                        connections=connections,
                        requests=len(window),
                        p50_ms=window[len(window) // 2] if window else 0.0,
                        p99_ms=window[min(len(window) - 1, len(window) * 99 // 100)]
                        if window
                        else 0.0,
                    )
                )
                next_sample += sample_s
            if now < due:
                await asyncio.sleep(min(due - now, 0.05))
                continue
            task = asyncio.create_task(one(KINDS[index % len(KINDS)], index))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            index += 1
        if tasks:
            await asyncio.wait(tasks, timeout=60)


def _recorded_ids(data_dir: Path) -> set[str]:
    with sqlite3.connect(data_dir / "inferia.sqlite3") as connection:
        rows = connection.execute("SELECT request_id FROM usage_records").fetchall()
    return {str(row[0]) for row in rows}


def run_soak(workdir: Path, duration_s: float, rate: float, sample_s: float = 5.0) -> SoakReport:
    report = SoakReport(duration_s=duration_s, rate=rate)
    fake = FakeUpstream([free_port()]).start()
    try:
        config = write_config(workdir / "inferia.toml", [{"name": "m", "base_url": fake.url()}])
        with config.open("a") as toml:
            toml.write(
                "\n[guardrails]\n"
                'input = [{ scanner = "denylist", action = "block", '
                f'words = ["{BLOCKED_WORD}"] }}]\n'
                "output = []\n"
            )
        data_dir = workdir / "data"
        env = inferia_env(data_dir, INFERIA_CONFIG=str(config))
        with InferiaServer(env, PLANES) as server:
            keys = {}
            for name, extra in (("plain", []), ("limited", ["--rpm", str(LIMITED_RPM)])):
                created = run_cli(["keys", "create", "--name", f"soak-{name}", *extra], env)
                assert created.returncode == 0, created.stderr
                keys[name] = created.stdout.strip()
            asyncio.run(_drive(server, keys, report, sample_s))
            # Every answered request's usage record is written (the consumer flushes
            # every 500 ms: poll, bounded).
            wanted = set(report.served_ids)
            deadline = time.monotonic() + 60
            while True:
                missing = wanted - _recorded_ids(data_dir)
                if not missing or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            report.missing_usage = len(missing)
    finally:
        fake.stop()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds")
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second")
    parser.add_argument("--sample-s", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="inferia-soak-") as tmp:
        report = run_soak(Path(tmp), args.duration, args.rate, args.sample_s)
    print(report.summary())


if __name__ == "__main__":
    main()
