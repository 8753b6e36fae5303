"""The gateway's own CPU per request, without the network: python -m tests.perf.bench_hot_path

The real app (every plane of ``inferia serve --plane inference --plane filtration``,
embedded SQLite + in-memory state, a real API key) is built in this process and the
server's entry (``inferia.core.http_entry.HttpEntry``) is called directly with an
in-memory ASGI scope, ``receive`` and ``send`` for ``POST /v1/chat/completions``; the
upstream call returns a canned reply without I/O (with ``--stream-events N``, a stream
of N content events, handed over one per read as from a paced upstream). Measured:
everything Inferia itself does per request (request id, authentication, parsing,
validation, routing, every pipeline step, the reply, the usage event and the consumer
writing it), not granian's and aiohttp's I/O, which tests/perf/bench_gateway.py
measures end to end. The two scenarios are the benchmark's: guardrails off, and every
inferia.toml default.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec
import uvloop

from inferia.app import build_app
from inferia.cli.preflight import prepare_storage
from inferia.config import load_settings
from inferia.core.http_entry import DIRECT_ROUTES_STATE_KEY, HttpEntry
from inferia.core.secrets import resolve_secrets
from inferia.inference.flow import RequestFlow
from inferia.inference.pipeline import Pipeline, RequestContext, Step, Usage
from inferia.inference.routing.table import Deployment
from inferia.inference.upstream.caller import UpstreamReply
from tests.e2e.gateway_fixtures import create_key, write_config
from tests.perf.bench_gateway import GATEWAY_ONLY
from tests.perf.upstream_rsgi import CHUNK_WITH_NULL_USAGE, REPLY, USAGE
from tests.processes import inferia_env

BODY = msgspec.json.encode(
    {"model": "bench", "messages": [{"role": "user", "content": "Hello, who are you?"}]}
)


class _Content:
    """An upstream stream that hands over one event per read (as a paced upstream)."""

    def __init__(self, events: list[bytes]) -> None:
        self._events = iter(events)

    async def readany(self) -> bytes:
        return next(self._events, b"")


class _Response:
    """What the gateway uses of an aiohttp response once the reply was read."""

    def __init__(self, events: list[bytes]) -> None:
        self.content = _Content(events)

    def release(self) -> None:
        pass

    def close(self) -> None:
        pass


def asgi_scope(headers: dict[str, str]) -> dict[str, Any]:
    """granian's ASGI scope of ``POST /v1/chat/completions``."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/chat/completions",
        "raw_path": b"/v1/chat/completions",
        "query_string": b"",
        "root_path": "",
        "headers": [(name.encode(), value.encode()) for name, value in headers.items()],
        "client": ("127.0.0.1", "50000"),
        "server": ("127.0.0.1", "8000"),
        "state": {},
    }


class AsgiClient:
    """``receive`` (the body in one message, then a client that stays) and ``send``."""

    def __init__(self, body: bytes) -> None:
        self._message = {"type": "http.request", "body": body, "more_body": False}
        self.statuses: list[int] = []

    async def receive(self) -> dict[str, Any]:
        if self._message is None:
            await asyncio.get_running_loop().create_future()  # never: the client stays
        message, self._message = self._message, None
        return message

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.statuses.append(message["status"])


def stream_events(count: int) -> list[bytes]:
    return [*([CHUNK_WITH_NULL_USAGE] * count), USAGE, b"data: [DONE]\n\n"]


class CannedCaller:
    """Stands in for UpstreamCaller.call: picks the endpoint like it, sends nothing."""

    def __init__(self, events: int) -> None:
        self._events = events

    async def call(self, ctx: RequestContext, deployment: Deployment, path: str) -> UpstreamReply:
        strategy = deployment.strategy
        endpoint = strategy.pick(deployment.endpoints, strategy.request_key(ctx))
        endpoint.health.acquire(time.monotonic())
        ctx.endpoint = endpoint.id
        if not ctx.stream:
            reply = UpstreamReply(endpoint, _Response([]), REPLY, 0.0)  # type: ignore[arg-type]
            reply.usage = Usage(12, 8)
            return reply
        events = stream_events(self._events)
        response = _Response(events[1:])
        return UpstreamReply(endpoint, response, events[0], 0.0)  # type: ignore[arg-type]


def _set_steps(pipeline: Pipeline, steps: list[Step]) -> None:
    """Rebuild ``pipeline`` in place (the reply paths hold it) with ``steps``."""
    pipeline.steps = []
    for step in steps:
        pipeline.append(step)


async def run(
    scenario: str, requests: int, rounds: int, events: int, toggle: str | None = None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        config = write_config(
            tmp / "inferia.toml",
            [{"name": "bench", "base_url": "http://127.0.0.1:9/v1", "upstream_model": "bench"}],
        )
        if scenario == "gateway":
            config.write_text(config.read_text() + GATEWAY_ONLY)
        env = inferia_env(tmp / "data", INFERIA_CONFIG=str(config))
        overrides = {"planes": ["inference", "filtration"], "data_dir": env["INFERIA_DATA_DIR"]}
        settings = resolve_secrets(load_settings(env=env, overrides=overrides))
        await prepare_storage(settings)
        key = create_key(env)
        app = build_app(settings, server=True)  # as served: start-up frozen for the GC
        runtime = app.state["runtime"]
        handler = app.state[DIRECT_ROUTES_STATE_KEY]["/v1/chat/completions"]
        async with runtime.lifespan(app):
            _flow_of(handler)._call_upstream = CannedCaller(events)  # type: ignore[assignment]
            body = BODY if not events else BODY[:-1] + b',"stream":true}'
            headers = {
                "authorization": f"Bearer {key}",
                "content-type": "application/json",
                "content-length": str(len(body)),
            }
            entry = HttpEntry(app, app.state[DIRECT_ROUTES_STATE_KEY], runtime.client_addresses)
            statuses: list[int] = []

            async def one() -> None:
                client = AsgiClient(body)
                client.statuses = statuses
                await entry(asgi_scope(headers), client.receive, client.send)

            pipeline = _flow_of(handler).pipeline
            all_steps = list(pipeline.steps)
            without = [step for step in all_steps if step.name != toggle]
            assert toggle is None or len(without) < len(all_steps), f"no step named {toggle}"
            per_request: list[float] = []
            per_request_without: list[float] = []
            for index in range(rounds * (2 if toggle else 1)):
                # --toggle-step: rounds alternate with and without the step, side by side.
                dropped = toggle is not None and index % 2 == 1
                _set_steps(pipeline, without if dropped else all_steps)
                started = time.process_time()
                for _ in range(requests):
                    await one()
                # Let the usage consumer drain what this round enqueued (its CPU counts).
                await asyncio.sleep(settings.usage.flush_interval_ms / 1000 + 0.2)
                spent = (time.process_time() - started) / requests
                (per_request_without if dropped else per_request).append(spent)
            assert set(statuses) == {200}, set(statuses)
    extra: dict[str, Any] = {}
    if toggle:
        extra = {
            "without_step": toggle,
            "cpu_us_per_request_without_step_median": 1e6 * statistics.median(per_request_without),
            "cpu_us_per_request_without_step_rounds": [
                round(1e6 * p, 1) for p in per_request_without
            ],
        }
    return {
        **extra,
        "scenario": scenario,
        "events_per_request": events,
        "cpu_us_per_request_median": 1e6 * statistics.median(per_request),
        "cpu_us_per_request_rounds": [round(1e6 * p, 1) for p in per_request],
    }


def _flow_of(handler: Any) -> RequestFlow:
    """The RequestFlow behind an endpoint closure."""
    for cell in handler.__closure__ or ():
        if isinstance(cell.cell_contents, RequestFlow):
            return cell.cell_contents
    raise RuntimeError("no RequestFlow in the handler's closure")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scenario", choices=["gateway", "full"], action="append")
    parser.add_argument(
        "--stream-events", type=int, default=0, help="streamed requests of this many events"
    )
    parser.add_argument(
        "--toggle-step",
        help="also measure without this pipeline step (e.g. retrieve_context), rounds alternating",
    )
    args = parser.parse_args()
    for scenario in args.scenario or ("gateway", "full"):
        result = uvloop.run(
            run(scenario, args.requests, args.rounds, args.stream_events, args.toggle_step)
        )
        print(msgspec.json.encode(result).decode())


if __name__ == "__main__":
    main()
