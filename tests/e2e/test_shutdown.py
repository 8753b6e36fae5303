"""SIGTERM drains: a request already in flight is answered before the server exits."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.gateway_fixtures import client, create_key, gateway

pytestmark = pytest.mark.e2e


def test_sigterm_lets_in_flight_requests_finish(tmp_path: Path) -> None:
    def models(fake: Any) -> list[dict[str, Any]]:
        return [{"name": "slow", "base_url": fake.url("a"), "api_key": "upstream-key"}]

    with gateway(tmp_path, 1, models) as (fake, server, env):
        fake.set("a", latency_s=1.5)
        sdk = client(server, create_key(env))
        outcome: dict[str, Any] = {}

        def call() -> None:
            try:
                reply = sdk.chat.completions.create(
                    model="slow", messages=[{"role": "user", "content": "hi"}]
                )
                outcome["content"] = reply.choices[0].message.content
            except Exception as exc:  # recorded, asserted below
                outcome["error"] = exc

        caller = threading.Thread(target=call)
        caller.start()
        time.sleep(0.5)  # the request is now waiting on the upstream
        assert server.process is not None
        stopped_at = time.monotonic()
        assert server.stop(timeout=20) == 0
        caller.join(10)
        assert "error" not in outcome, outcome.get("error")
        assert outcome["content"] == "Hello from the fake upstream."
        assert time.monotonic() - stopped_at >= 0.9  # it waited for the reply
        # And it no longer accepts new connections.
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{server.base_url}/health", timeout=1)
