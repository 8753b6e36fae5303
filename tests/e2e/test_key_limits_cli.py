"""``inferia keys create`` with limits, as an operator runs it: a refused budget leaves
no key behind, and a key with limits has them from its first request."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.identity_support import ADMIN_EMAIL, ADMIN_PASSWORD, admin_env
from tests.processes import InferiaServer, run_cli

pytestmark = pytest.mark.e2e


def key_names(env: dict[str, str]) -> list[str]:
    listed = run_cli(["keys", "list"], env)
    assert listed.returncode == 0, listed.stderr
    return [line.split()[2] for line in listed.stdout.splitlines() if line.strip()]


def test_budget_without_pricing_creates_nothing(tmp_path: Path) -> None:
    env = admin_env(tmp_path)
    assert run_cli(["migrate"], env).returncode == 0
    refused = run_cli(["keys", "create", "--name", "budgeted", "--monthly-budget", "5"], env)
    assert refused.returncode == 2
    assert "[pricing]" in refused.stderr and "--monthly-budget" in refused.stderr
    assert "sk-inf-" not in refused.stdout
    assert "budgeted" not in key_names(env)


def test_key_and_its_limits_are_created_together(tmp_path: Path) -> None:
    config = tmp_path / "inferia.toml"
    config.write_text('[pricing."*"]\nprompt = 1.0\ncompletion = 2.0\n')
    env = {**admin_env(tmp_path / "data"), "INFERIA_CONFIG": str(config)}
    assert run_cli(["migrate"], env).returncode == 0
    created = run_cli(
        ["keys", "create", "--name", "limited", "--rpm", "7", "--monthly-budget", "5"], env
    )
    assert created.returncode == 0, created.stderr
    with InferiaServer(env) as server:
        token = httpx.post(
            f"{server.base_url}/auth/login",
            json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        ).json()["access_token"]
        headers = {"authorization": f"Bearer {token}"}
        policies = httpx.get(f"{server.base_url}/management/policies", headers=headers).json()
        audit = httpx.get(f"{server.base_url}/audit/logs", headers=headers).json()
    (policy,) = [p for p in policies["data"] if p["scope"] == "api_key"]
    assert policy["limits"]["rpm"] == 7 and policy["limits"]["monthly_budget"] == 5
    actions = [entry["action"] for entry in audit["data"]]
    assert "api_key.create" in actions and "policy.create" in actions
