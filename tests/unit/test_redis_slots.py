"""The suite's Redis databases follow INFERIA_TEST_REDIS_URL: two runs on one Redis with
URLs REDIS_SLOTS databases apart touch (and flush) disjoint databases."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def slots_of(url: str) -> list[int]:
    code = (
        "from tests.services import REDIS_SLOTS, redis_db; "
        "print(*map(redis_db, range(REDIS_SLOTS)))"
    )
    env = {**os.environ, "INFERIA_TEST_REDIS_URL": url}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=TESTS.parent, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return [int(n) for n in out.stdout.split()]


def test_databases_derive_from_the_url() -> None:
    first = slots_of("redis://127.0.0.1:6379/0")
    second = slots_of("redis://127.0.0.1:6379/8")
    assert first == list(range(8)) and second == list(range(8, 16))
    assert not set(first) & set(second)


def test_no_test_names_a_database_number_of_its_own() -> None:
    # A fixed database for a Redis test (a config string in a parsing test is no use).
    fixed = re.compile(r"""REDIS_DB = (?:9|1[0-5])\b|_replace\(path="/\d""")
    offenders = [
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("*.py")
        if path.name != Path(__file__).name and fixed.search(path.read_text())
    ]
    assert offenders == []
