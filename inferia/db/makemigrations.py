"""Generate a migration from the difference between the tables and the migrations.

    python -m inferia.db.makemigrations --desc "add api keys"
    python -m inferia.db.makemigrations --empty --desc "backfill x"   # for raw SQL

A developer tool, not part of the running product. It wraps ``piccolo
migrations new inferia --auto --auto_input=n`` and then makes the file pass the
project's checks: piccolo's template has no return annotation (mypy --strict)
and is formatted by black at 82 columns (ruff).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from pathlib import Path

from inferia.db.registry import APP_NAME, MIGRATIONS_DIR, PICCOLO_CONF_MODULE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m inferia.db.makemigrations")
    parser.add_argument("--desc", default="", help="what the migration does")
    parser.add_argument(
        "--empty", action="store_true", help="an empty migration to fill with add_raw()"
    )
    args = parser.parse_args(argv)

    os.environ["PICCOLO_CONF"] = PICCOLO_CONF_MODULE
    # Imported after PICCOLO_CONF is set: piccolo reads it when the command runs.
    from piccolo.apps.migrations.commands.new import new

    before = set(MIGRATIONS_DIR.glob("*.py"))
    asyncio.run(new(app_name=APP_NAME, auto=not args.empty, desc=args.desc, auto_input="n"))
    created = sorted(set(MIGRATIONS_DIR.glob("*.py")) - before)
    for path in created:
        _make_checkable(path)
        print(f"created {path}")
    if not created:
        print("no changes: no migration created")
    return 0


def _make_checkable(path: Path) -> None:
    text = path.read_text()
    text = (
        text.replace("async def forwards():", "async def forwards() -> MigrationManager:")
        .replace("    def run():", "    def run() -> None:")
        # piccolo's template for empty migrations leaves the app name blank.
        .replace('app_name=""', f'app_name="{APP_NAME}"')
    )
    path.write_text(text)
    ruff = [sys.executable, "-m", "ruff"]
    subprocess.run([*ruff, "check", "--fix", "--quiet", str(path)], check=False)
    subprocess.run([*ruff, "format", "--quiet", str(path)], check=False)


if __name__ == "__main__":
    raise SystemExit(main())
