"""Admission benchmark: the CPU and Redis round trips limits add to a request.

Run (from the repository root):  python -m tests.perf.bench_admission
Needs Redis (INFERIA_TEST_REDIS_URL, default redis://127.0.0.1:6379/0; its database + 5 is used).
``--compare-redis-py`` adds every variant on a backend whose two per-request calls
(``run_script``, ``run_batch``) go through redis-py, as they did before the
multiplexed connection: the before/after of that change, measured side by side.

Per request, with the real steps on the real Redis backend, interleaved in one run:

- ``usage only``: a Pipeline holding only the UsageSink, i.e. the usage event (one
  XADD) that every request pays, with or without limits;
- ``admit + usage``: the Pipeline with the AdmissionStep and the UsageSink, wired as
  InferencePlane wires them: the admit call before the upstream call, then at the end
  the settle and the usage event in one batch;
- ``direct calls``: the same state calls with prepared arguments and no step: the admit
  script, then ``run_batch([settle, XADD])``; ``direct, unbatched`` makes the settle and
  the XADD two calls, as the steps did before the end-of-request batch;
- ``direct XADD``: ``run_batch([XADD])`` with a prepared payload.

Scenarios: API-key limits none, rpm, rpm + tpm + daily tokens + max_parallel, all
with one prompt repeated (the token counter remembers counts of texts it saw, as it
would an application's system prompt and a conversation's history), and the last
limits again with a prompt never seen before (``all four, new prompt``: tiktoken runs
on every request).

"Added by admission" is ``admit + usage`` minus ``usage only``. Of that, ``direct
calls`` minus ``direct XADD`` is the Redis client's share; the rest is the steps' own
logic (the prompt's token count, the plan, the headers, the settle amounts).

Round trips and commands are counted by Redis (``INFO stats`` total_reads_processed:
one per request the server reads, however many commands it carries; ``INFO
commandstats``), not assumed. Both are server-wide: other clients of the same Redis
would inflate them, so blocks are interleaved and the median block is reported.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
import uvloop
from redis.exceptions import NoScriptError, ResponseError
from redis.utils import HIREDIS_AVAILABLE

from inferia.config import LimitsSettings, UsageSettings
from inferia.contracts import USAGE_STREAM
from inferia.contracts import PolicySnapshots as Snapshots
from inferia.contracts.principals import Principal
from inferia.core.errors import StateError
from inferia.inference.admission import AdmissionStep
from inferia.inference.pipeline import Pipeline, RequestContext, Usage
from inferia.inference.tokens import TokenCounter, install_encodings
from inferia.inference.usage_sink import UsageSink
from inferia.limits import (
    ADMIT_LIMITS,
    Charge,
    LimitEvaluator,
    LimitValues,
    OrgPolicies,
    Plan,
    PolicyRule,
)
from inferia.state import (
    AtomicScript,
    RedisStateBackend,
    ScriptArg,
    ScriptCall,
    StateOp,
    StreamAppend,
)
from inferia.state.redis_errors import REDIS_FAILURES, translate_errors
from inferia.state.redis_streams import PAYLOAD_FIELD, stream_id
from tests.services import redis_db_url

ORG, KEY = "00000000-0000-0000-0000-0000000000b1", "00000000-0000-0000-0000-0000000000b2"
BODY = {"model": "bench", "messages": [{"role": "user", "content": "Hello, who are you?"}]}
USAGE = Usage(12, 20)
ALL_FOUR = "rpm+tpm+daily+parallel"
# The same limits, with a prompt no request sent before: its token count is tiktoken's
# every time. (The other scenarios repeat one prompt, as a chat application repeats its
# system prompt and history: counted once, then remembered by the TokenCounter.)
NEW_PROMPT = "all four, new prompt"
SCENARIOS: dict[str, LimitValues | None] = {
    "no limits": None,
    "rpm (key)": LimitValues(rpm=10**9),
    ALL_FOUR: LimitValues(rpm=10**9, tpm=10**10, daily_tokens=10**10, max_parallel=10**6),
    NEW_PROMPT: LimitValues(rpm=10**9, tpm=10**10, daily_tokens=10**10, max_parallel=10**6),
}
# The scenario whose direct calls (the same state calls) stand for another's.
SAME_CALLS = {NEW_PROMPT: ALL_FOUR}
_new_prompts = itertools.count()
Run = Callable[[int], Awaitable[None]]


class RedisPyStateBackend(RedisStateBackend):
    """The backend with its two per-request calls on redis-py (a pooled connection per
    call, a redis-py pipeline for a batch), as before the multiplexed connection."""

    async def run_script(
        self, script: AtomicScript, keys: Sequence[str], args: Sequence[ScriptArg]
    ) -> Any:
        with translate_errors(f"script {script.name}"):
            return await self._evalsha(script.sha, script.lua, keys, args)

    async def run_batch(self, ops: Sequence[StateOp]) -> list[Any]:
        if len(ops) == 1:  # a plain command: less client CPU than a pipeline
            return [await self._run_one(ops[0])]
        with translate_errors("pipeline"):
            async with self._redis.pipeline(transaction=False) as pipe:
                for op in ops:
                    _queue(pipe, op)
                replies = await pipe.execute(raise_on_error=False)
                missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
                if missing:
                    for i in missing:
                        _queue(pipe, ops[i], cached=False)
                    retried = await pipe.execute(raise_on_error=False)
                    for i, reply in zip(missing, retried, strict=True):
                        replies[i] = reply
        return [_result(op, reply) for op, reply in zip(ops, replies, strict=True)]

    async def _run_one(self, op: StateOp) -> Any:
        try:
            if isinstance(op, ScriptCall):
                return await self._evalsha(op.script.sha, op.script.lua, op.keys, op.args)
            raw_id = await self._redis.xadd(
                op.stream, {PAYLOAD_FIELD: op.payload}, maxlen=op.maxlen, approximate=False
            )
            return stream_id(raw_id)
        except ResponseError as exc:
            return _result(op, exc)
        except REDIS_FAILURES as exc:
            raise StateError(f"Redis op failed: {exc}") from exc


def _queue(pipe: Any, op: StateOp, *, cached: bool = True) -> None:
    if isinstance(op, ScriptCall):
        keys, args = op.keys, op.args
        if cached:
            pipe.evalsha(op.script.sha, len(keys), *keys, *args)
        else:
            pipe.eval(op.script.lua, len(keys), *keys, *args)
    else:
        pipe.xadd(op.stream, {PAYLOAD_FIELD: op.payload}, maxlen=op.maxlen, approximate=False)


def _result(op: StateOp, reply: Any) -> Any:
    if isinstance(reply, Exception):
        return StateError(f"Redis op failed: {reply}")
    return reply if isinstance(op, ScriptCall) else stream_id(reply)


class FixedPolicies:
    """A PolicySource holding one organisation's rules (what the store would return)."""

    def __init__(self, limits: LimitValues | None) -> None:
        rules = () if limits is None else (PolicyRule(scope="api_key", subject=KEY, limits=limits),)
        self._policies = OrgPolicies(organization_id=ORG, rules=rules)

    async def load(self, organization_id: str) -> OrgPolicies:
        return self._policies


class ServerCounts:
    """Requests read and commands run by Redis, from one INFO call."""

    def __init__(self, url: str) -> None:
        self._client = aioredis.Redis.from_url(url)

    async def read(self) -> tuple[int, int]:
        info: dict[str, Any] = await self._client.info("stats", "commandstats")
        # Commands sent by clients; the ones a script runs inside Redis are not sent.
        sent = ("cmdstat_evalsha", "cmdstat_eval", "cmdstat_xadd", "cmdstat_ping")
        commands = sum(int(info[k]["calls"]) for k in sent if k in info)
        return int(info["total_reads_processed"]), commands

    async def last_usage_event(self) -> bytes:
        entries: Any = await self._client.xrevrange(USAGE_STREAM, count=1)
        [(_id, fields)] = entries
        payload: bytes = fields[b"p"]
        return payload

    async def drop_usage_stream(self) -> None:
        await self._client.delete(USAGE_STREAM)

    async def close(self) -> None:
        await self._client.aclose()


def _context(index: int, *, new_prompt: bool = False) -> RequestContext:
    body = dict(BODY)
    if new_prompt:  # BODY's prompt and a number: a text not seen before
        text = f"Hello, who are you? {next(_new_prompts)}"
        body["messages"] = [{"role": "user", "content": text}]
    return RequestContext(
        request_id=f"bench-{index}",
        principal=Principal(organization_id=ORG, key_id=KEY),
        api="chat.completions",
        model="bench",
        body=body,
        stream=False,
        client_address="127.0.0.1",
        received_at=time.monotonic(),
        usage=USAGE,
    )


def _pipeline_run(pipeline: Pipeline, *, new_prompt: bool = False) -> Run:
    async def run(count: int) -> None:
        for index in range(count):
            ctx = _context(index, new_prompt=new_prompt)
            await pipeline.before_upstream(ctx)
            ctx.finished_at = time.monotonic()
            await pipeline.finish(ctx)

    return run


async def _variants(state: RedisStateBackend, counts: ServerCounts) -> dict[str, Run]:
    """Every measured variant on one backend, warmed up."""
    counter = TokenCounter()
    variants: dict[str, Run] = {}
    payload = b""
    for scenario, limits in SCENARIOS.items():
        snapshots = Snapshots(FixedPolicies(limits), state, LimitValues(), 60)
        evaluator = LimitEvaluator(state, slot_ttl_ms=60_000)
        admission = AdmissionStep(snapshots, evaluator, counter, {}, LimitsSettings())
        sink = UsageSink(state, snapshots, {}, UsageSettings(), "")
        if not variants:
            only_usage = Pipeline()
            only_usage.append(sink)
            variants["usage only"] = _pipeline_run(only_usage)
            await variants["usage only"](1)
            payload = await counts.last_usage_event()
        both = Pipeline()
        both.append(admission)
        both.append(sink)
        variants[f"{scenario}: admit + usage"] = _pipeline_run(
            both, new_prompt=scenario == NEW_PROMPT
        )
        await variants[f"{scenario}: admit + usage"](1)  # the snapshot, tiktoken, scripts
        if scenario in SAME_CALLS:
            continue
        plan = (await snapshots.get(ORG)).plan(ORG, None, KEY, "bench")
        variants[f"{scenario}: direct calls"] = _direct_calls(state, plan, counter, payload)
        if any(c.field.measure != "requests" for c in plan):
            variants[f"{scenario}: direct, unbatched"] = _direct_calls(
                state, plan, counter, payload, batched=False
            )

    async def direct_xadd(count: int) -> None:
        for _ in range(count):
            await state.run_batch([StreamAppend(USAGE_STREAM, payload)])

    variants["direct XADD"] = direct_xadd
    return variants


def _direct_calls(
    state: RedisStateBackend,
    plan: Plan,
    counter: TokenCounter,
    payload: bytes,
    *,
    batched: bool = True,
) -> Run:
    """The state calls the two steps make, with prepared arguments, without the steps;
    unbatched, the settle and the XADD are two calls (as before the batch existed)."""
    keys = plan.keys  # the tuple the step passes (its packed prefix is reused)
    # What the admit step reserves: the prompt's tokens and the default max_tokens.
    reserved = counter.prompt_tokens("bench", "chat.completions", BODY) + (
        LimitsSettings().default_max_tokens
    )
    amounts = {"requests": 1, "tokens": reserved, "cost": 0, "concurrent": 60_000}
    admit_spec = " ".join(c.spec + str(amounts[c.field.measure]) for c in plan)
    # The settle replaces the reservation by the real usage and frees the slot.
    settle = LimitEvaluator(state, slot_ttl_ms=60_000).settle_op(
        Charge(plan, "m", reserved, 0), USAGE.prompt_tokens + USAGE.completion_tokens, 0
    )
    xadd = StreamAppend(USAGE_STREAM, payload)

    async def run(count: int) -> None:
        for index in range(count):
            member = f"direct-{index}"
            if keys:
                await state.run_script(ADMIT_LIMITS, keys, ["a", member, admit_spec])
            if settle is None:
                await state.run_batch([xadd])
            elif batched:
                settle_now = ScriptCall(ADMIT_LIMITS, settle.keys, ["s", member, settle.args[2]])
                await state.run_batch([settle_now, xadd])
            else:
                await state.run_script(ADMIT_LIMITS, settle.keys, ["s", member, settle.args[2]])
                await state.run_batch([xadd])

    return run


CLIENTS: dict[str, type[RedisStateBackend]] = {
    "": RedisStateBackend,  # the per-request calls on the multiplexed connection
    "redis-py": RedisPyStateBackend,
}


async def measure(
    url: str, requests: int, rounds: int, clients: list[str]
) -> dict[str, dict[str, float]]:
    """Each variant runs in ``rounds`` interleaved blocks; the median block is reported,
    so background load on a shared machine hits every variant alike."""
    block = max(1, requests // rounds)
    counts = ServerCounts(url)
    backends = {client: CLIENTS[client](url) for client in clients}
    samples: dict[str, list[dict[str, float]]] = {}
    await counts.drop_usage_stream()  # database 13 is the benchmark's own
    try:
        runs: dict[str, Run] = {}
        for client, state in backends.items():
            prefix = f"[{client}] " if client else ""
            for name, run in (await _variants(state, counts)).items():
                runs[prefix + name] = run
        for _ in range(rounds):
            for name, run in runs.items():
                reads, commands = await counts.read()
                cpu, wall = time.process_time(), time.perf_counter()
                await run(block)
                row = {
                    "cpu_ms_per_request": (time.process_time() - cpu) * 1000 / block,
                    "wall_ms_per_request": (time.perf_counter() - wall) * 1000 / block,
                }
                reads_after, commands_after = await counts.read()
                # Less the INFO call itself (its read; it is not a counted command).
                row["round_trips_per_request"] = (reads_after - reads - 1) / block
                row["commands_per_request"] = (commands_after - commands) / block
                samples.setdefault(name, []).append(row)
    finally:
        for state in backends.values():
            await state.close()
        await counts.drop_usage_stream()
        await counts.close()
    return {
        name: {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        for name, rows in samples.items()
    }


def _report(results: dict[str, dict[str, float]], clients: list[str]) -> None:
    header = ("variant", "CPU ms/req", "wall ms", "round trips", "commands")
    print(f"{header[0]:<52} {header[1]:>10} {header[2]:>8} {header[3]:>11} {header[4]:>9}")
    for name, row in results.items():
        print(
            f"{name:<52} {row['cpu_ms_per_request']:>10.4f} {row['wall_ms_per_request']:>8.4f} "
            f"{row['round_trips_per_request']:>11.2f} {row['commands_per_request']:>9.2f}"
        )
    for label in clients:
        prefix = f"[{label}] " if label else ""

        def cpu(name: str, prefix: str = prefix) -> float:
            return results[prefix + name]["cpu_ms_per_request"]

        def trips(name: str, prefix: str = prefix) -> float:
            return results[prefix + name]["round_trips_per_request"]

        print(f"\n{prefix}added by admission per request (vs usage only):")
        print(f"  {'scenario':<26} {'CPU ms':>8} {'Redis client':>13} {'steps':>8} {'trips':>6}")
        for scenario in SCENARIOS:
            added = cpu(f"{scenario}: admit + usage") - cpu("usage only")
            calls = SAME_CALLS.get(scenario, scenario)
            client = cpu(f"{calls}: direct calls") - cpu("direct XADD")
            extra_trips = trips(f"{scenario}: admit + usage") - trips("usage only")
            print(
                f"  {scenario:<26} {added:>8.4f} {client:>13.4f} {added - client:>8.4f} "
                f"{extra_trips:>6.2f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument(
        "--compare-redis-py",
        action="store_true",
        help="also run every variant with the per-request calls on redis-py (the before)",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    clients = ["", "redis-py"] if args.compare_redis_py else [""]
    install_encodings(Path("/tmp/inferia-bench-tiktoken"))
    url = redis_db_url(5)
    print(f"redis-py reply parser: {'hiredis' if HIREDIS_AVAILABLE else 'python'}")
    # The server's event loop (granian --loop uvloop).
    results = uvloop.run(measure(url, args.requests, args.rounds, clients))
    _report(results, clients)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
