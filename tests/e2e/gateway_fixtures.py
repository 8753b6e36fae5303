"""Shared set-up of the gateway e2e files: a fake upstream and an ``inferia serve``
configured with a ``[[models]]`` table per endpoint, written to a TOML file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openai

from tests.e2e.fake_upstream import FakeUpstream
from tests.identity_support import ADMIN_EMAIL, ADMIN_PASSWORD, CHEAP_ARGON2_ENV
from tests.processes import InferiaServer, free_port, inferia_env, run_cli

PLANES = ["--plane", "inference", "--plane", "filtration"]


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, dict):
        return "{" + ", ".join(f'"{k}" = {toml_value(v)}' for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return str(value)


def write_config(
    path: Path, models: list[dict[str, Any]], inference: dict[str, Any] | None = None
) -> Path:
    lines = ["[inference]"]
    lines += [f"{key} = {toml_value(value)}" for key, value in (inference or {}).items()]
    for model in models:
        lines.append("\n[[models]]")
        lines += [f"{key} = {toml_value(value)}" for key, value in model.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@contextmanager
def gateway(
    tmp: Path,
    upstream_ports: int,
    models: Any,
    inference: dict[str, Any] | None = None,
    *,
    every_plane: bool = False,
    **settings: str,
) -> Iterator[tuple[FakeUpstream, InferiaServer, dict[str, str]]]:
    """``models(fake)`` returns the [[models]] tables once the fake's URLs are known;
    ``settings``: more INFERIA_* variables; ``every_plane``: the control plane and the
    dashboard too (else inference and filtration)."""
    fake = FakeUpstream([free_port() for _ in range(upstream_ports)]).start()
    try:
        config = write_config(tmp / "inferia.toml", models(fake), inference)
        env = inferia_env(tmp / "data", INFERIA_CONFIG=str(config), **settings)
        with InferiaServer(env, None if every_plane else PLANES) as server:
            yield fake, server, env
    finally:
        fake.stop()


@contextmanager
def split_planes(
    tmp: Path, *, private_upstreams_on: tuple[str, ...] = ("filtration", "inference")
) -> Iterator[tuple[InferiaServer, InferiaServer, dict[str, str]]]:
    """The filtration and inference planes as two processes on one data dir (the
    inference one with no database: it reads definitions over /internal/*); the
    filtration plane's env. API-defined upstreams may be private (the fake's) where
    ``private_upstreams_on`` names the plane's process."""
    filtration_port = free_port()
    common = {
        "INFERIA_ADMIN_EMAIL": ADMIN_EMAIL,
        "INFERIA_ADMIN_PASSWORD": ADMIN_PASSWORD,
        # Memory state carries no events between processes: the TTL backstop does.
        "INFERIA_INFERENCE__ROUTING_REFRESH_S": "0.3",
        **CHEAP_ARGON2_ENV,
    }
    private = "INFERIA_INFERENCE__ALLOW_PRIVATE_API_UPSTREAMS"
    filtration_env = inferia_env(tmp, **common)
    inference_env = inferia_env(
        tmp, INFERIA_REMOTE__FILTRATION_URL=f"http://127.0.0.1:{filtration_port}", **common
    )
    for plane, plane_env in (("filtration", filtration_env), ("inference", inference_env)):
        if plane in private_upstreams_on:
            plane_env[private] = "true"
    with (
        InferiaServer(
            filtration_env, ["--plane", "filtration"], port=filtration_port
        ) as filtration,
        InferiaServer(inference_env, ["--plane", "inference"]) as inference,
    ):
        yield filtration, inference, filtration_env


def create_key(env: dict[str, str], *models: str) -> str:
    args = ["keys", "create", "--name", "e2e"]
    for model in models:
        args += ["--model", model]
    result = run_cli(args, env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def client(server: InferiaServer, key: str, **options: Any) -> openai.OpenAI:
    # No SDK retries: the tests count exactly what reached the upstream.
    return openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=key, max_retries=0, **options)


def dead_url() -> str:
    """A URL nothing listens on."""
    return f"http://127.0.0.1:{free_port()}/v1"
