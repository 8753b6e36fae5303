"""The local adapter's command line for an ``openai-compatible`` server."""

from __future__ import annotations

import sys

from inferia_compute_local import recipes

from inferia.orchestration.adapters.protocol import ReplicaSpec


def _spec(*command: str) -> ReplicaSpec:
    return ReplicaSpec(
        replica_id="r1",
        deployment_id="d1",
        artifact_uri="file:///models/m.gguf",
        engine="openai-compatible",
        served_name="m",
        api_key="k",
        command=command,
    )


def test_placeholders_are_filled_and_other_braces_kept() -> None:
    spec = _spec(
        "{python}", "-m", "srv", "--model", "{model_path}", "--extra", '{"a": 1}', "${HOME}"
    )
    line = recipes.command(spec, "127.0.0.1", 8123)
    assert line == [
        sys.executable,
        "-m",
        "srv",
        "--model",
        "/models/m.gguf",
        "--extra",
        '{"a": 1}',
        "${HOME}",
    ]
