"""README.md's first screen run as written, against a real server: its shell and Python
blocks are read from the file (not copied here), so an edit that breaks them fails.

Changed only where a test must: ``pip install`` is skipped (the suite runs installed),
and the server's port replaces 8000 (the shared test machine may have 8000 taken).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import InferiaServer, free_port, inferia_env

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"


def quickstart_blocks() -> list[tuple[str, str]]:
    """(language, code) of the fenced blocks of '## Install and run'."""
    text = README.read_text()
    section = text.split("## Install and run", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(\w+)\n(.*?)```", section, re.DOTALL)


def test_readme_quickstart_works_as_written(tmp_path: Path) -> None:
    blocks = quickstart_blocks()
    languages = [language for language, _ in blocks]
    assert languages[:3] == ["sh", "sh", "python"], languages
    (_, install), (_, shell), (_, python) = blocks[:3]
    serve_line = next(line for line in install.splitlines() if line.startswith("inferia serve"))
    port = free_port()
    env = {
        **inferia_env(tmp_path),
        # The venv's `inferia` first on PATH, as after `pip install -e .`.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    args = serve_line.split()[2:]  # e.g. ["--demo"]
    with InferiaServer(env, args, port=port):
        shell = shell.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        python = python.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        # The shell block, then the Python block in that same shell (it reads the key the
        # shell exported), as the README tells a user to.
        script = f"set -e\n{shell}\ncat > quickstart.py <<'PY'\n{python}PY\npython quickstart.py\n"
        ran = subprocess.run(
            ["bash", "-c", script],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    # What the README's comments promise.
    assert '"status":"ok"' in ran.stdout.replace(" ", "")
    expected = re.search(r"#\s*(\[demo echo\].*)$", python, re.MULTILINE)
    assert expected is not None
    assert ran.stdout.strip().endswith(expected.group(1).strip())
