"""The CLI away from the server's data dir: only ``serve`` and ``migrate`` create an
installation; every other command refuses to, and names the one it used."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.identity_support import admin_env
from tests.processes import run_cli

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    "command",
    [
        ["keys", "create", "--name", "stray"],
        ["keys", "list"],
        ["admin", "list-users"],
        ["admin", "create-user", "--email", "a@example.com", "--password", "long enough pw!"],
    ],
)
def test_commands_refuse_to_create_an_installation(tmp_path: Path, command: list[str]) -> None:
    data_dir = tmp_path / "nowhere"
    result = run_cli(command, admin_env(data_dir))
    assert result.returncode == 2
    assert "no Inferia installation" in result.stderr and str(data_dir) in result.stderr
    assert "sk-inf-" not in result.stdout and "Traceback" not in result.stderr
    # Nothing was written: no database, no generated secrets.
    assert not data_dir.exists() or not any(data_dir.iterdir())


def test_migrate_creates_says_what_it_did_and_commands_name_the_installation(
    tmp_path: Path,
) -> None:
    env = admin_env(tmp_path)
    first = run_cli(["migrate"], env)
    assert first.returncode == 0, first.stderr
    assert "applied" in first.stdout and str(tmp_path) in first.stdout
    again = run_cli(["migrate"], env)
    assert again.returncode == 0 and "nothing to apply" in again.stdout
    assert "applied" not in again.stdout

    created = run_cli(["keys", "create", "--name", "app"], env)
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("sk-inf-")
    assert f"data dir {tmp_path}" in created.stderr
    assert "inferia.sqlite3" in created.stderr
