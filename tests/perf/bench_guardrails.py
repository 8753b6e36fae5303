"""Guardrails benchmark: CPU the default guardrails add per request and per SSE event.

Run (from the repository root):  python -m tests.perf.bench_guardrails
Add ``--server`` to also measure two real ``inferia serve`` processes side by side
(guardrails off vs the default policy) with wrk and streamed requests (needs ``wrk``).

In-process part (``time.process_time``, best of several rounds):
- each built-in scanner, and all of them together, on a ~1,000-token prompt;
- the guard steps on a short chat request (input + output), minus the same steps with
  an empty policy (what an unconfigured step costs);
- the SSE relay with the guard's StreamTransform minus the relay without it, per event:
  this includes the JSON decode/encode the relay does only because a transform exists.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from inferia.contracts import Principal
from inferia.guardrails import (
    CompiledPolicy,
    GuardrailEngine,
    ScanLimits,
    discover_factories,
    policy_from_builtins,
)
from inferia.inference.api.sse import SseRelay
from inferia.inference.guard_steps import GuardrailMetrics, guard_steps
from inferia.inference.pipeline import RequestContext

DEFAULT = {
    "input": [
        {"scanner": "secrets", "action": "redact"},
        {"scanner": "pii", "action": "redact"},
        {"scanner": "injection", "action": "flag"},
    ],
    "output": [
        {"scanner": "secrets", "action": "redact"},
        {"scanner": "pii", "action": "redact"},
    ],
}
WORDS = [
    "the",
    "model",
    "should",
    "explain",
    "how",
    "this",
    "request",
    "works",
    "with",
    "data",
    "and",
    "results",
    "for",
    "users",
    "please",
    "summarise",
    "the",
    "answer",
    "in",
    "a",
    "few",
    "clear",
    "sentences",
    "about",
    "systems",
    "and",
    "latency",
]
SHORT_BODY = {
    "model": "bench",
    "messages": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Hello, who are you? Answer in one short sentence."},
    ],
}
SHORT_REPLY = {
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "created": 1,
    "model": "bench",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello there, how can I help?"},
            "finish_reason": "stop",
        }
    ],
}


def cpu_us(fn: Callable[[], object], repeat: int, rounds: int = 5) -> float:
    """Best-of-rounds CPU microseconds per call."""
    fn()
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(repeat):
            fn()
        best = min(best, (time.process_time() - started) / repeat)
    return best * 1e6


class _Policies:
    def __init__(self, compiled: CompiledPolicy) -> None:
        self._compiled = compiled

    async def policy_for(self, organization_id: str, model: str) -> CompiledPolicy:
        return self._compiled


def prompt_of(tokens: int) -> str:
    rng = random.Random(7)
    return " ".join(rng.choice(WORDS) for _ in range(int(tokens * 0.75)))


def scanners(engine: GuardrailEngine) -> dict[str, float]:
    text = prompt_of(1000)
    results: dict[str, float] = {"prompt_chars": len(text)}
    names = ["pii", "secrets", "injection", "profanity", "denylist"]
    for name in names:
        entry: dict[str, Any] = {"scanner": name, "action": "redact"}
        if name == "denylist":
            entry["words"] = ["project falcon", "internal only"]
        rules = engine.compile(policy_from_builtins({"input": [entry]})).input
        results[f"{name}_us"] = cpu_us(lambda rules=rules: rules.scan_inline(text), 100)
    every = policy_from_builtins({"input": [{"scanner": n, "action": "redact"} for n in names[:4]]})
    rules = engine.compile(every).input
    results["all_builtins_us"] = cpu_us(lambda: rules.scan_inline(text), 100)
    return results


def steps_per_request(engine: GuardrailEngine) -> dict[str, float]:
    def run(policy: dict[str, Any]) -> float:
        compiled = engine.compile(policy_from_builtins(policy))
        guard_in, guard_out = guard_steps(_Policies(compiled), ScanLimits(), GuardrailMetrics())
        principal = Principal(organization_id="o", key_id="k")
        loop = asyncio.new_event_loop()

        async def request() -> None:
            ctx = RequestContext(
                request_id="r",
                principal=principal,
                api="chat.completions",
                model="bench",
                body=json.loads(json.dumps(SHORT_BODY)),
                stream=False,
                client_address=None,
                received_at=0.0,
            )
            await guard_in.before_upstream(ctx)
            await guard_out.after_response(ctx, json.loads(json.dumps(SHORT_REPLY)))

        try:
            return cpu_us(lambda: loop.run_until_complete(request()), 2000)
        finally:
            loop.close()

    default = run(DEFAULT)
    empty = run({"input": [], "output": []})
    return {"default_us": default, "empty_policy_us": empty, "added_us": default - empty}


def sse_per_event(engine: GuardrailEngine, events: int = 400) -> dict[str, float]:
    rng = random.Random(3)
    chunks = [
        b'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1,'
        b'"model":"bench","choices":[{"index":0,"delta":{"content":'
        + json.dumps(" " + rng.choice(WORDS)).encode()
        + b'},"finish_reason":null}]}\n\n'
        for _ in range(events)
    ]
    compiled = engine.compile(policy_from_builtins(DEFAULT))
    _, guard_out = guard_steps(_Policies(compiled), ScanLimits(), GuardrailMetrics())
    principal = Principal(organization_id="o", key_id="k")

    def relay(with_guard: bool) -> None:
        ctx = RequestContext(
            request_id="r",
            principal=principal,
            api="chat.completions",
            model="bench",
            body={},
            stream=True,
            client_address=None,
            received_at=0.0,
        )
        transforms = []
        if with_guard:
            ctx.extras["guardrails.state"] = _state(compiled)
            transform = guard_out.stream_transform(ctx)
            assert transform is not None
            transforms.append(transform)
        sse = SseRelay(strip_usage=False, collect_text=False, transforms=transforms)
        for chunk in chunks:
            sse.feed(chunk)
        sse.feed(b"data: [DONE]\n\n")

    plain = cpu_us(lambda: relay(False), 20) / events
    guarded = cpu_us(lambda: relay(True), 20) / events
    return {"relay_us": plain, "relay_with_guard_us": guarded, "added_us": guarded - plain}


def _state(compiled: CompiledPolicy) -> Any:
    from inferia.inference.guard_steps import _GuardState

    return _GuardState(compiled)


def server_comparison(seconds: int, rounds: int = 3) -> dict[str, Any]:
    """Two real servers, guardrails off vs default, both running; the same load is sent
    to each in alternation (``rounds`` times), so drift on a shared machine hits both."""
    from tests.e2e.gateway_fixtures import PLANES, create_key, write_config
    from tests.perf import bench_gateway
    from tests.perf.bench_gateway import cpu_seconds, streams, tree, upstream, wrk
    from tests.processes import InferiaServer, inferia_env

    totals = {label: {"cpu_req": 0.0, "requests": 0, "cpu_stream": 0.0, "events": 0}
              for label in ("off", "default")}  # fmt: skip
    count = 50
    with ExitStack() as stack:
        fast, _ = stack.enter_context(upstream())
        burst, _ = stack.enter_context(upstream(events=200))
        servers: dict[str, tuple[str, str, list[int]]] = {}
        for label, guardrails in (("off", "input = []\noutput = []\n"), ("default", "")):
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            config = write_config(
                tmp / "inferia.toml",
                [
                    {"name": "fast", "base_url": f"{fast}/v1", "upstream_model": "bench"},
                    {"name": "burst", "base_url": f"{burst}/v1", "upstream_model": "bench"},
                ],
            )
            if guardrails:
                config.write_text(config.read_text() + "\n[guardrails]\n" + guardrails)
            env = inferia_env(tmp / "data", INFERIA_CONFIG=str(config))
            server = stack.enter_context(InferiaServer(env, PLANES))
            assert server.process is not None
            url = f"{server.base_url}/v1/chat/completions"
            servers[label] = (url, create_key(env), tree(server.process.pid))
            bench_gateway.BODY["model"] = "fast"
            wrk(url, servers[label][1], 2, 8)  # warm-up
        for _ in range(rounds):
            for label, (url, key, pids) in servers.items():
                bench_gateway.BODY["model"] = "fast"
                before = cpu_seconds(pids)
                run = wrk(url, key, seconds, 8)
                totals[label]["cpu_req"] += cpu_seconds(pids) - before
                totals[label]["requests"] += int(run["requests"])
                bench_gateway.BODY["model"] = "burst"
                before = cpu_seconds(pids)
                events = asyncio.run(streams(url, {"authorization": f"Bearer {key}"}, count, 8))
                totals[label]["cpu_stream"] += cpu_seconds(pids) - before
                totals[label]["events"] += events
    results: dict[str, Any] = {}
    for label, t in totals.items():
        per_request = t["cpu_req"] / t["requests"]
        streamed_requests = count * rounds
        per_event = (t["cpu_stream"] - streamed_requests * per_request) / t["events"]
        results[label] = {
            "cpu_ms_per_request": 1000 * per_request,
            "cpu_us_per_event": 1e6 * per_event,
            "requests": t["requests"],
            "events": t["events"],
        }
    results["added_ms_per_request"] = (
        results["default"]["cpu_ms_per_request"] - results["off"]["cpu_ms_per_request"]
    )
    results["added_us_per_event"] = (
        results["default"]["cpu_us_per_event"] - results["off"]["cpu_us_per_event"]
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", action="store_true")
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    engine = GuardrailEngine(discover_factories())
    results: dict[str, Any] = {
        "scanners_1000_tokens": scanners(engine),
        "short_chat_request": steps_per_request(engine),
        "sse_event": sse_per_event(engine),
    }
    if args.server:
        results["server"] = server_comparison(args.seconds)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
