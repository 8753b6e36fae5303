"""The command line of a model server, per engine, and where its artifact is."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

from inferia.orchestration.adapters.protocol import ReplicaSpec

ENGINES = ("llama.cpp", "vllm", "openai-compatible")


def artifact_path(uri: str) -> str:
    """``file:///x/y.gguf`` -> ``/x/y.gguf``; ``hf://org/model`` -> ``org/model`` (vLLM
    resolves it itself); a bare path is taken as is."""
    parts = urlsplit(uri)
    if parts.scheme == "file":
        return unquote(parts.path)
    if parts.scheme == "hf":
        return f"{parts.netloc}{parts.path}"
    if parts.scheme == "":
        return uri
    raise ValueError(f"the local adapter cannot fetch '{parts.scheme}://' artifacts")


def check(spec: ReplicaSpec) -> None:
    if spec.engine not in ENGINES:
        raise ValueError(
            f"the local adapter runs the engines {', '.join(ENGINES)}, not '{spec.engine}'"
        )
    path = artifact_path(spec.artifact_uri)
    needs_file = spec.engine == "llama.cpp" or spec.artifact_uri.startswith("file:")
    if needs_file and not Path(path).is_file():
        raise ValueError(f"the artifact {path} does not exist on this machine")
    if spec.engine == "openai-compatible" and not spec.command:
        raise ValueError("the 'openai-compatible' engine needs the server's 'command'")


def command(spec: ReplicaSpec, host: str, port: int) -> list[str]:
    path = artifact_path(spec.artifact_uri)
    args = list(spec.engine_args)
    if spec.engine == "llama.cpp":
        return [
            sys.executable,
            *("-m", "llama_cpp.server"),
            *("--model", path, "--model_alias", spec.served_name),
            *("--host", host, "--port", str(port), "--api_key", spec.api_key),
            *args,
        ]
    if spec.engine == "vllm":
        return [
            "vllm",
            "serve",
            path,
            *("--served-model-name", spec.served_name),
            *("--host", host, "--port", str(port), "--api-key", spec.api_key),
            *args,
        ]
    values = {
        "model_path": path,
        "host": host,
        "port": str(port),
        "api_key": spec.api_key,
        "served_name": spec.served_name,
        "python": sys.executable,
    }
    return [_fill(part, values) for part in spec.command] + args


def _fill(part: str, values: dict[str, str]) -> str:
    """The known placeholders replaced, every other brace kept: a command may carry
    JSON or a shell's ``${VAR}``, which ``str.format`` would refuse (KeyError)."""
    for name, value in values.items():
        part = part.replace("{" + name + "}", value)
    return part


def environment(gpus: list[int], wanted: int, extra: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, **extra}
    # A CPU-only replica sees no GPU; a GPU replica sees the pool's GPUs.
    env["CUDA_VISIBLE_DEVICES"] = ",".join(str(g) for g in gpus) if wanted else ""
    return env
