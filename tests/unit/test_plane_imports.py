"""A process loads only the planes it serves: the worker entry (``serve_target``) of an
inference-only process imports nothing of the policy plane, its database or its
identity libraries (docs/architecture.md, "what may import what")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import msgspec

from inferia.config import SETTINGS_ENV, Settings
from inferia.core.secrets import resolve_secrets

# Build the app exactly as a granian worker does, then report what got imported.
_PROBE = """
import json, sys
from inferia.app import serve_target
serve_target()
print(json.dumps(sorted(sys.modules)))
"""
_POLICY_PLANE_ONLY = ("inferia.filtration", "inferia.db", "inferia.tables", "piccolo")
_IDENTITY_LIBRARIES = ("argon2", "joserfc", "pyotp")


def _modules_of_worker(planes: list[str], data_dir: Path) -> set[str]:
    settings = resolve_secrets(
        msgspec.convert({"planes": planes, "data_dir": str(data_dir)}, Settings)
    )
    env = {**os.environ, SETTINGS_ENV: msgspec.json.encode(settings).decode()}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def _under(modules: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes))


def test_an_inference_only_worker_imports_no_policy_plane_database_or_identity_code(
    tmp_path: Path,
) -> None:
    modules = _modules_of_worker(["inference"], tmp_path)
    assert "inferia.inference.plane" in modules
    assert _under(modules, _POLICY_PLANE_ONLY + _IDENTITY_LIBRARIES) == []
    assert _under(modules, ("inferia.orchestration", "inferia.dashboard")) == []


def test_a_filtration_only_worker_imports_no_inference_or_orchestration_code(
    tmp_path: Path,
) -> None:
    modules = _modules_of_worker(["filtration"], tmp_path)
    assert "inferia.filtration.plane" in modules
    assert _under(modules, ("inferia.inference", "inferia.orchestration")) == []
