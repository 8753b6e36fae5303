"""Gateway overhead benchmark: ``inferia serve`` (1 worker) vs a direct call, side by side,
and the floors (a bare pass-through on the same server stack: tests/perf/passthrough_asgi.py
on granian's ASGI interface, the one ``inferia serve`` uses, and
tests/perf/passthrough_rsgi.py on RSGI, for scale) under the same loads.

Run (from the repository root):  python -m tests.perf.bench_gateway [--full]
Needs ``wrk`` (apt-get install -y wrk). Prints a table and writes it as JSON to
``--json`` if given. See docs/performance.md for what each line means.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager as ContextManager
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import uvloop

from tests.e2e.gateway_fixtures import PLANES, create_key, write_config
from tests.processes import InferiaServer, free_port, inferia_env

TICKS = os.sysconf("SC_CLK_TCK")
PY_SPY = str(Path(sys.executable).with_name("py-spy"))
BODY = {"model": "bench", "messages": [{"role": "user", "content": "Hello, who are you?"}]}


@contextmanager
def served(module: str, args: list[str], probe_path: str) -> Iterator[tuple[str, int]]:
    """``python -m module --port P *args`` in the background, once it answers."""
    port = free_port()
    command = [sys.executable, "-m", module, "--port", str(port), *args]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.post(f"{url}{probe_path}", json=BODY, timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(5)


def upstream(**options: float) -> ContextManager[tuple[str, int]]:
    args = [f"--{name.replace('_', '-')}={value}" for name, value in options.items()]
    return served("tests.perf.upstream_rsgi", args, "/v1/chat/completions")


FLOORS = ("passthrough_rsgi", "passthrough_asgi")


def passthrough(floor: str, upstreams: dict[str, str]) -> ContextManager[tuple[str, int]]:
    """A floor (tests/perf/``floor``.py) in front of the same upstreams."""
    args = [f"--upstream={name}={url}" for name, url in upstreams.items()]
    return served(f"tests.perf.{floor}", args, "/fast/v1/chat/completions")


def pin(pids: list[int], cpus: set[int]) -> None:
    """Every thread of ``pids`` on ``cpus`` (threads started later inherit it)."""
    for pid in pids:
        for thread in os.listdir(f"/proc/{pid}/task"):
            os.sched_setaffinity(int(thread), cpus)


def tree(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    children = [int(p) for p in out.stdout.split()]
    return [pid, *[q for c in children for q in tree(c)]]


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    match = re.search(rf"{field}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) / 1024 if match else 0.0


def wrk_script(key: str | None, extra: str = "") -> str:
    """A wrk Lua script POSTing BODY (with the API key if given), plus ``extra``."""
    headers = "['content-type'] = 'application/json'"
    if key:
        headers += f", ['authorization'] = 'Bearer {key}'"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            f"wrk.method = 'POST'\nwrk.body = '{json.dumps(BODY)}'\nwrk.headers = {{{headers}}}\n"
            + extra
        )
    return script.name


def wrk(url: str, key: str | None, seconds: int, connections: int) -> dict[str, float]:
    script = wrk_script(key)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script)
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"requests": requests, "rps": rate, "non_2xx": int(errors.group(1)) if errors else 0}


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def fixed_rate(
    targets: dict[str, tuple[str, str | None]], rate: int, seconds: int
) -> dict[str, dict[str, float]]:
    """``rate`` requests/s to every target at once, each from its own wrk paced by
    tests/perf/paced.lua (a compiled load generator: ~10 ms of CPU per second of load)."""
    pacing = (Path(__file__).parent / "paced.lua").read_text()
    runs: dict[str, tuple[subprocess.Popen[str], str]] = {}
    for name, (url, key) in targets.items():
        script = wrk_script(key, pacing)
        # Connections to spare: a slot never waits for a free one (rate x latency ~ 10).
        command = ["wrk", "-t1", "-c40", f"-d{seconds}s", "-s", script, url, "--", str(rate)]
        runs[name] = (subprocess.Popen(command, stdout=subprocess.PIPE, text=True), script)
    results: dict[str, dict[str, float]] = {}
    for name, (process, script) in runs.items():
        out, _ = process.communicate()
        os.unlink(script)
        results[name] = json.loads(out.strip().splitlines()[-1])
        assert results[name]["errors"] == 0, (name, results[name])
    return results


async def ttft(
    targets: dict[str, tuple[str, dict[str, str]]], rounds: int
) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {name: [] for name in targets}
    body = {**BODY, "stream": True}
    async with aiohttp.ClientSession() as session:
        for index in range(rounds + 10):
            for name, (url, headers) in targets.items():
                started = time.perf_counter()
                async with session.post(url, json=body, headers=headers) as response:
                    await response.content.readany()
                    first = time.perf_counter() - started
                    await response.read()
                if index >= 10:
                    out[name].append(first)
    return out


async def streams(url: str, headers: dict[str, str], count: int, concurrency: int) -> int:
    """Runs ``count`` streamed requests; returns the number of data events received."""
    body = {**BODY, "stream": True}
    events = 0
    semaphore = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession() as session:

        async def one() -> None:
            nonlocal events
            async with semaphore, session.post(url, json=body, headers=headers) as response:
                data = await response.read()
                events += data.count(b"data: ")

        await asyncio.gather(*(one() for _ in range(count)))
    return events


# Guardrails off: the gateway's own path (auth, routing, admission, usage sink + consumer).
GATEWAY_ONLY = "\n[guardrails]\ninput = []\noutput = []\n"
# The full pipeline with the usage consumer idle: after its first event it waits an hour
# for the rest of the batch, so no usage write happens during the measurements.
IDLE_CONSUMER = "\n[usage]\nbatch_size = 10000000\nflush_interval_ms = 3600000\n"


def profile(folder: str, name: str, pid: int, load: Callable[[], object]) -> None:
    """py-spy (raw, collapsed stacks) on ``pid`` while ``load`` runs again, apart from
    the measured runs."""
    output = str(Path(folder) / f"{name}.txt")
    options = ["--format", "raw", "--rate", "250", "--nonblocking", "--output", output]
    spy = subprocess.Popen(
        [PY_SPY, "record", "--pid", str(pid), *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    load()
    spy.send_signal(signal.SIGINT)
    spy.wait(30)


def measure(
    name: str,
    pids: list[int],
    url_for: Callable[[str], str],
    key: str | None,
    upstreams: dict[str, str],
    slow_pids: list[int],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Every measurement of one server (see docs/performance.md). ``url_for(model)`` is
    where that model's chat completions are served; the model is also in BODY."""
    worker = pids[-1]
    auth = {"authorization": f"Bearer {key}"} if key else {}
    results: dict[str, Any] = {}
    print(f"[{name}] saturation", file=sys.stderr)

    # 1. Saturation (wrk, closed loop).
    BODY["model"] = "fast"
    gw = url_for("fast")
    wrk(gw, key, 2, args.connections)  # warm-up
    direct = wrk(f"{upstreams['fast']}/v1/chat/completions", None, args.seconds, args.connections)
    before = cpu_seconds(pids)
    through = wrk(gw, key, args.seconds, args.connections)
    cpu = cpu_seconds(pids) - before
    assert through["non_2xx"] == 0, through
    results["saturation"] = {
        "direct_rps": direct["rps"],
        "gateway_rps": through["rps"],
        "gateway_cpu_ms_per_request": 1000 * cpu / through["requests"],
    }
    if args.profile:
        profile(args.profile, f"{name}-saturation", worker, lambda: wrk(gw, key, 6, 16))
    print(f"[{name}] fixed rate", file=sys.stderr)

    # 2. Fixed rate 200 req/s, 50 ms upstream latency: direct and gateway at the same time.
    slow = upstreams["slow"]
    BODY["model"] = "slow"
    gw = url_for("slow")
    wrk(gw, key, 1, 8)  # warm-up
    before, upstream_before = cpu_seconds(pids), cpu_seconds(slow_pids)
    paced = fixed_rate(
        {"direct": (f"{slow}/v1/chat/completions", None), "gateway": (gw, key)},
        200,
        2 * args.seconds,
    )
    cpu = cpu_seconds(pids) - before
    upstream_cpu = cpu_seconds(slow_pids) - upstream_before
    direct, through = paced["direct"], paced["gateway"]
    results["fixed_rate"] = {
        "requests": through["requests"],
        "direct_p50_ms": direct["p50_us"] / 1000,
        "direct_p99_ms": direct["p99_us"] / 1000,
        "gateway_p50_ms": through["p50_us"] / 1000,
        "gateway_p99_ms": through["p99_us"] / 1000,
        "added_p50_ms": (through["p50_us"] - direct["p50_us"]) / 1000,
        "added_p99_ms": (through["p99_us"] - direct["p99_us"]) / 1000,
        "gateway_cpu_ms_per_request": 1000 * cpu / through["requests"],
        # For scale: the trivial RSGI upstream's own CPU per request at this rate.
        "upstream_cpu_ms_per_request": 1000
        * upstream_cpu
        / (direct["requests"] + through["requests"]),
    }

    # 3. Time to first token (streams, 50 ms to the first event).
    first = uvloop.run(
        ttft({"direct": (f"{slow}/v1/chat/completions", {}), "gateway": (gw, auth)}, 200)
    )
    results["ttft"] = {
        "direct_p50_ms": 1000 * statistics.median(first["direct"]),
        "gateway_p50_ms": 1000 * statistics.median(first["gateway"]),
        "added_p50_ms": 1000
        * (statistics.median(first["gateway"]) - statistics.median(first["direct"])),
        "added_p99_ms": 1000 * (quantile(first["gateway"], 0.99) - quantile(first["direct"], 0.99)),
    }

    # 4. CPU per relayed SSE event: paced (1 ms apart, one read per event) and burst.
    # Conservative: the whole CPU of the streamed requests divided by their events.
    for stream in ("paced", "burst"):
        BODY["model"] = stream
        gw = url_for(stream)
        before = cpu_seconds(pids)
        events = uvloop.run(streams(gw, auth, 100, 8))
        cpu = cpu_seconds(pids) - before
        results[f"sse_{stream}"] = {"events": events, "cpu_us_per_event": 1e6 * cpu / events}
        if args.profile and stream == "paced":
            profile(
                args.profile,
                f"{name}-sse",
                worker,
                lambda url=gw: uvloop.run(streams(url, auth, 100, 8)),  # type: ignore[misc]
            )
    results["rss_mb"] = rss_mb(worker)
    results["peak_rss_mb"] = rss_mb(worker, "VmHWM")
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--full",
        action="store_true",
        help="also measure the full default pipeline (inferia.toml defaults: guardrails, "
        "admission, usage settlement), side by side with the gateway alone (guardrails off)",
    )
    parser.add_argument(
        "--idle-consumer",
        action="store_true",
        help="with --full: a third server, the full pipeline with the usage consumer idle",
    )
    parser.add_argument("--profile", help="folder for py-spy raw profiles of each worker")
    parser.add_argument(
        "--pin",
        action="store_true",
        help="each server on CPU 0 alone; this process, wrk and the upstreams on the others",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    # The machine is shared: record how busy it was, so a noisy run can be recognised.
    results: dict[str, Any] = {"load_average_at_start": os.getloadavg()[0]}
    cpus = sorted(os.sched_getaffinity(0))
    pinned = args.pin and len(cpus) >= 2
    results["pinned"] = pinned
    if pinned:
        # The server under test on a CPU of its own, as where the clients and the model
        # servers are other machines; this process, wrk and the upstreams (started from
        # here) share the other CPUs. See docs/performance.md for what it changes.
        os.sched_setaffinity(0, set(cpus[1:]))
    with ExitStack() as stack:
        upstreams: dict[str, str] = {}
        upstreams["fast"], _ = stack.enter_context(upstream())
        upstreams["slow"], slow_pid = stack.enter_context(upstream(latency_ms=50))
        upstreams["burst"], _ = stack.enter_context(upstream(events=200))
        upstreams["paced"], _ = stack.enter_context(upstream(events=200, event_gap_ms=1))
        slow_pids = tree(slow_pid)
        models = [
            {"name": name, "base_url": f"{url}/v1", "upstream_model": "bench"}
            for name, url in upstreams.items()
        ]
        scenarios = {"gateway": GATEWAY_ONLY}
        if args.full:
            scenarios["full"] = ""
            if args.idle_consumer:
                scenarios["full-idle-consumer"] = IDLE_CONSUMER
        servers: dict[str, tuple[InferiaServer, str]] = {}
        for name, extra in scenarios.items():
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            config = write_config(tmp / "inferia.toml", models)
            config.write_text(config.read_text() + extra)
            env = inferia_env(tmp / "data", INFERIA_CONFIG=str(config))
            servers[name] = (stack.enter_context(InferiaServer(env, PLANES)), create_key(env))
        floors = {floor: stack.enter_context(passthrough(floor, upstreams)) for floor in FLOORS}
        if pinned:
            for server, _ in servers.values():
                assert server.process is not None
                pin(tree(server.process.pid), {cpus[0]})
            for _, floor_pid in floors.values():
                pin(tree(floor_pid), {cpus[0]})
        for floor, (floor_url, floor_pid) in floors.items():
            results[floor] = measure(
                floor,
                tree(floor_pid),
                lambda model, url=floor_url: f"{url}/{model}/v1/chat/completions",
                None,
                upstreams,
                slow_pids,
                args,
            )
        for name, (server, key) in servers.items():
            assert server.process is not None
            gateway_url = f"{server.base_url}/v1/chat/completions"
            results[name] = measure(
                name,
                tree(server.process.pid),
                lambda _model, url=gateway_url: url,
                key,
                upstreams,
                slow_pids,
                args,
            )
    results["load_average_at_end"] = os.getloadavg()[0]
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
