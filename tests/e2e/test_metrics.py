"""GET /metrics on a real ``inferia serve``: what the gateway counted, in Prometheus'
text format, for loopback clients or holders of the scrape token."""

from __future__ import annotations

from pathlib import Path

import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.gateway_fixtures import PLANES, client, create_key, gateway, write_config
from tests.processes import InferiaServer, inferia_env

pytestmark = pytest.mark.e2e


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by (name, sorted labels)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_requests_guardrail_findings_and_upstream_health_are_counted(tmp_path: Path) -> None:
    with gateway(tmp_path, 1, lambda fake: [{"name": "m", "base_url": fake.url("a")}]) as (
        _fake,
        server,
        env,
    ):
        sdk = client(server, create_key(env))
        sdk.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
        # The default input policy redacts e-mail addresses (pii).
        sdk.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "mail me at jo@example.com"}]
        )
        with pytest.raises(openai.AuthenticationError):
            client(server, "sk-inf-wrong").chat.completions.create(
                model="m", messages=[{"role": "user", "content": "hi"}]
            )

        scrape = httpx.get(f"{server.base_url}/metrics")
        assert scrape.status_code == 200
        assert scrape.headers["content-type"].startswith("text/plain")
        found = samples(scrape.text)
        chat = "chat.completions"
        assert found["inferia_requests_total", (("api", chat), ("status", "200"))] == 2
        assert found["inferia_requests_total", (("api", chat), ("status", "401"))] == 1
        pii = [
            value
            for (name, labels), value in found.items()
            if name == "inferia_guardrail_findings_total"
            and ("scanner", "pii") in labels
            and ("direction", "input") in labels
        ]
        assert pii == [1]
        assert found["inferia_admission_unchecked_total", ()] == 0
        assert found["inferia_usage_events_dropped_total", ()] == 0
        health = [
            (name, value)
            for (name, labels), value in found.items()
            if name.startswith("inferia_upstream_") and ("deployment", "m") in labels
        ]
        assert sorted(health) == [
            ("inferia_upstream_circuit_open", 0),
            ("inferia_upstream_outstanding", 0),
        ]
        assert found["inferia_process_id", ()] > 0


def test_a_scrape_token_is_required_once_configured(tmp_path: Path) -> None:
    config = write_config(tmp_path / "inferia.toml", [])
    env = inferia_env(
        tmp_path / "data", INFERIA_CONFIG=str(config), INFERIA_METRICS__SCRAPE_TOKEN="scrape-me"
    )
    with InferiaServer(env, PLANES) as server:
        url = f"{server.base_url}/metrics"
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "scrape-me"}):
            refused = httpx.get(url, headers=headers)
            assert refused.status_code == 401
            assert refused.json()["error"]["type"] == "authentication_error"
        allowed = httpx.get(url, headers={"authorization": "Bearer scrape-me"})
        assert allowed.status_code == 200
        assert samples(allowed.text)["inferia_admission_unchecked_total", ()] == 0
