"""Admission benchmark: the CPU and Redis round trips the admit step adds per request.

Run (from the repository root):  python -m tests.perf.bench_admission
Needs Redis (INFERIA_TEST_REDIS_URL, default redis://127.0.0.1:6379/0; db 13 is used).

The real AdmissionStep runs against the real Redis backend, side by side with the
irreducible cost of one round trip through the same client (``PING``), in one run.
Round trips are counted on the server (INFO commandstats), not assumed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis
import uvloop

from inferia.config import LimitsSettings
from inferia.filtration import (
    LimitEvaluator,
    LimitValues,
    OrgPolicies,
    PolicySnapshots,
)
from inferia.filtration.limits import ADMIT_LIMITS, PolicyRule
from inferia.filtration.ports import Principal
from inferia.inference.admission import AdmissionStep
from inferia.inference.pipeline import RequestContext, Usage
from inferia.inference.usage import TokenCounter, install_encodings
from inferia.state import RedisStateBackend, StateBackend
from tests.services import REDIS_URL

ORG, KEY = "00000000-0000-0000-0000-0000000000b1", "00000000-0000-0000-0000-0000000000b2"
BODY = {"model": "bench", "messages": [{"role": "user", "content": "Hello, who are you?"}]}
SCENARIOS: dict[str, LimitValues | None] = {
    "no limits": None,
    "rpm (key)": LimitValues(rpm=10**9),
    "rpm+tpm+daily+parallel": LimitValues(
        rpm=10**9, tpm=10**10, daily_tokens=10**10, max_parallel=10**6
    ),
}


class FixedPolicies:
    """A PolicySource holding one organisation's rules (what the store would return)."""

    def __init__(self, limits: LimitValues | None) -> None:
        rules = () if limits is None else (PolicyRule(scope="api_key", subject=KEY, limits=limits),)
        self._policies = OrgPolicies(organization_id=ORG, rules=rules)

    async def load(self, organization_id: str) -> OrgPolicies:
        return self._policies


async def _calls(url: str) -> int:
    client = aioredis.Redis.from_url(url)
    try:
        stats: dict[str, Any] = await client.info("commandstats")
        # Commands sent by clients; the ones a script runs inside Redis are not round trips.
        sent = ("cmdstat_evalsha", "cmdstat_eval", "cmdstat_ping", "cmdstat_xadd")
        return sum(int(stats[k]["calls"]) for k in sent if k in stats)
    finally:
        await client.aclose()


def _context(index: int) -> RequestContext:
    return RequestContext(
        request_id=f"bench-{index}",
        principal=Principal(organization_id=ORG, key_id=KEY),
        api="chat.completions",
        model="bench",
        body=dict(BODY),
        stream=False,
        client_address="127.0.0.1",
        received_at=time.monotonic(),
        usage=Usage(12, 20),
    )


async def _admission(state: StateBackend, limits: LimitValues | None) -> AdmissionStep:
    settings = LimitsSettings()
    snapshots = PolicySnapshots(FixedPolicies(limits), state, LimitValues(), 60)
    step = AdmissionStep(
        snapshots, LimitEvaluator(state, slot_ttl_ms=60_000), TokenCounter(), {}, settings
    )
    await step.before_upstream(_context(-1))  # warm the snapshot and tiktoken
    return step


async def _direct_call(state: RedisStateBackend, step: AdmissionStep) -> Any:
    """The same script calls with the same keys through the same client, without the step."""
    plan = (await step.snapshots.get(ORG)).plan(ORG, None, KEY, "bench")
    keys = [c.key for c in plan]
    spec = " ".join(c.spec + "1" for c in plan)
    counter = iter(range(10**9))

    # Settling is a second call when tokens or concurrency slots are held.
    settles = any(c.field.measure != "requests" for c in plan)
    settle_spec = " ".join(c.spec + "0" for c in plan)

    async def call() -> None:
        if keys:
            member = f"direct-{next(counter)}"
            await state.run_script(ADMIT_LIMITS, keys, ["a", member, spec])
            if settles:
                await state.run_script(ADMIT_LIMITS, keys, ["s", member, settle_spec])

    return call


async def measure(url: str, requests: int, rounds: int) -> dict[str, dict[str, float]]:
    """Each scenario runs in ``rounds`` interleaved blocks; the median block is reported,
    so background load on a shared machine hits every scenario alike."""
    state = RedisStateBackend(url)
    block = max(1, requests // rounds)
    samples: dict[str, list[dict[str, float]]] = {}

    async def sample(name: str, run: Any) -> None:
        calls = await _calls(url)
        cpu, wall = time.process_time(), time.perf_counter()
        await run()
        samples.setdefault(name, []).append(_row(cpu, wall, block, await _calls(url) - calls - 1))

    try:
        for _ in range(200):
            await state.ping()
        steps = {name: await _admission(state, limits) for name, limits in SCENARIOS.items()}
        directs = {name: await _direct_call(state, step) for name, step in steps.items()}

        async def pings() -> None:
            for _ in range(block):
                await state.ping()

        for round_index in range(rounds):
            await sample("one round trip (PING)", pings)
            for name, step in steps.items():
                contexts = [_context(round_index * block + i) for i in range(block)]

                async def admit(step: AdmissionStep = step, ctxs: Any = contexts) -> None:
                    for ctx in ctxs:
                        await step.before_upstream(ctx)
                        await step.finish(ctx)

                async def direct(call: Any = directs[name]) -> None:
                    for _ in range(block):
                        await call()

                await sample(f"{name}: direct EVALSHA(s)", direct)
                await sample(f"{name}: admit + settle", admit)
    finally:
        await state.close()
    return {
        name: {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        for name, rows in samples.items()
    }


def _row(cpu: float, wall: float, requests: int, calls: int) -> dict[str, float]:
    return {
        "cpu_ms_per_request": (time.process_time() - cpu) * 1000 / requests,
        "wall_ms_per_request": (time.perf_counter() - wall) * 1000 / requests,
        "redis_calls_per_request": calls / requests,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    install_encodings(Path("/tmp/inferia-bench-tiktoken"))
    url = urlunsplit(urlsplit(REDIS_URL)._replace(path="/13"))
    # The server's event loop (granian --loop uvloop).
    results = uvloop.run(measure(url, args.requests, args.rounds))
    header = ("scenario", "CPU ms/req", "wall ms", "Redis calls")
    print(f"{header[0]:<42} {header[1]:>10} {header[2]:>8} {header[3]:>12}")
    for name, row in results.items():
        print(
            f"{name:<42} {row['cpu_ms_per_request']:>10.4f} "
            f"{row['wall_ms_per_request']:>8.4f} {row['redis_calls_per_request']:>12.2f}"
        )
    print("\nadded by the step beyond the same direct script calls (CPU ms per request):")
    for name in SCENARIOS:
        added = (
            results[f"{name}: admit + settle"]["cpu_ms_per_request"]
            - results[f"{name}: direct EVALSHA(s)"]["cpu_ms_per_request"]
        )
        print(f"  {name:<40} {added:.4f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
