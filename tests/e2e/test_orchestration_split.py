"""The control plane in its own process: callers verified over the filtration plane's
``/internal/callers/verify``, live endpoints read by the gateway over the orchestration
plane's ``/internal/endpoints``, change events through Redis."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.gateway_fixtures import client, create_key
from tests.e2e.orchestration_support import ControlClient, orchestration_env, wait_for
from tests.e2e.test_orchestration import tiny_model
from tests.identity_support import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.processes import InferiaServer, free_port
from tests.services import require_redis

pytestmark = pytest.mark.e2e


def test_deploy_on_a_separate_control_plane(tmp_path: Path) -> None:
    redis = require_redis()
    policy_port, control_port = free_port(), free_port()
    shared = {"INFERIA_STATE__URL": redis}
    policy = InferiaServer(
        orchestration_env(
            tmp_path,
            INFERIA_REMOTE__ORCHESTRATION_URL=f"http://127.0.0.1:{control_port}",
            **shared,
        ),
        ["--plane", "inference", "--plane", "filtration"],
        port=policy_port,
    )
    control = InferiaServer(
        orchestration_env(
            tmp_path, INFERIA_REMOTE__FILTRATION_URL=f"http://127.0.0.1:{policy_port}", **shared
        ),
        ["--plane", "orchestration"],
        port=control_port,
    )
    try:
        policy.start(timeout=120)
        control.start(timeout=120)
        user = ControlClient(policy, ADMIN_EMAIL, ADMIN_PASSWORD)
        user.server = control  # the token from the policy plane works on the control plane
        assert user.call("GET", "/deployment/listModels").status_code == 200
        bad = httpx.get(
            f"{control.base_url}/deployment/listModels", headers={"authorization": "Bearer x"}
        )
        assert bad.status_code == 401
        pool = user.create_pool("split")
        assert user.call("POST", "/deployment/registerModel", json=tiny_model("split-chat"))
        reply = user.call(
            "POST",
            "/deployment/deploy",
            json={"model": "split-chat", "version": "1", "pool_id": pool["id"]},
        )
        assert reply.status_code == 202, reply.text
        deployment_id = reply.json()["id"]
        user.wait_state(deployment_id, "RUNNING", timeout=30)
        key = create_key(policy.env)

        def routed() -> bool:
            reply = httpx.get(
                f"{policy.base_url}/v1/models", headers={"authorization": f"Bearer {key}"}
            )
            return "split-chat" in [m["id"] for m in reply.json()["data"]]

        wait_for(routed, 2, "routed over the remote port")
        answer = client(policy, key).chat.completions.create(
            model="split-chat", messages=[{"role": "user", "content": "hi"}]
        )
        assert answer.choices[0].message.content
        user.call("POST", f"/deployment/terminate/{deployment_id}")
        wait_for(lambda: not routed(), 2, "unrouted over the remote port")
        user.wait_state(deployment_id, "TERMINATED", timeout=15)
    finally:
        control.__exit__()
        policy.__exit__()
