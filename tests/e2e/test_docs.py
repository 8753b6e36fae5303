"""The examples of docs/*.md run as written, against a real ``inferia serve``: the blocks
are read from the files (not copied here), so an edit that breaks one fails.

The convention, for whoever writes docs:

- Code is fenced (no 4-space indented blocks), and every fence names its language
  (```sh, ```python, ```http, ```toml, ```text...). ``sh``, ``python`` and ``http``
  blocks run; ``toml`` blocks must be valid inferia.toml settings (``inferia config
  show --config`` accepts each alone); the others are not checked.
- ``<!-- docs-check: skip (reason) -->`` on the line before a block leaves it out; the
  reason is required (it needs a GPU, Docker, Node.js, a long-running server...).
- ``<!-- docs-check: expect STATUS -->`` before an ``http`` block: the status it must
  answer (default: any 2xx).
- ``sh`` blocks run in ``bash -e -o pipefail``, where ``curl`` fails on an HTTP error
  status (``--fail``: a 404 is not an example that works); ``python`` blocks with this
  interpreter. One test per file runs its blocks in order, in a temporary directory.
  A ``print(...)`` line whose trailing comment, or the whole-line comment right after
  it, gives a text: the output must contain that text.
- ``http`` blocks: ``METHOD PATH`` on the first line, an optional JSON body after it,
  sent with the admin's access token (a management call). ``{id}`` in the path is the
  ``id`` of the previous ``http`` block's reply in the same file.

What the harness provides, in the same way for every block:

- one server (the inference and filtration planes; no control plane) with the admin
  ``INFERIA_EMAIL`` / ``INFERIA_PASSWORD``, ``inference.allow_private_api_upstreams =
  true`` (the examples name private addresses), the model ``llama-3.1-8b`` served by
  the fake upstream (``tests/e2e/fake_upstream.py``) and a ``[pricing."*"]`` (so budgets
  can be set);
- the environment ``INFERIA_URL``, ``INFERIA_EMAIL``, ``INFERIA_PASSWORD``,
  ``INFERIA_API_KEY`` and ``OPENAI_API_KEY`` (a key of that server), ``TOKEN`` (the
  admin's access token);
- in the text: ``127.0.0.1:8000`` becomes the server's address (the shared test
  machine may have 8000 taken) and ``sk-inf-...`` that key.

README.md's quickstart has its own test (test_readme.py).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.fake_upstream import FakeUpstream
from tests.e2e.gateway_fixtures import write_config
from tests.identity_support import ADMIN_EMAIL, ADMIN_PASSWORD, CHEAP_ARGON2_ENV
from tests.processes import InferiaServer, free_port, inferia_env, run_cli

pytestmark = pytest.mark.e2e

DOCS = Path(__file__).resolve().parents[2] / "docs"
RUN = {"sh", "python", "http", "toml"}
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.DOTALL | re.MULTILINE)
CURL_FAILS = 'curl() { command curl --fail --silent --show-error "$@"; }\n'
MARKER = re.compile(r"<!--\s*docs-check:\s*(skip|expect)\s*(.*?)\s*-->\s*\n$")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int
    language: str
    code: str
    skip: str | None  # the reason
    expect: int | None

    def __str__(self) -> str:
        return f"{self.path.name}:{self.line} ({self.language})"


def blocks(path: Path) -> list[Block]:
    text = path.read_text()
    found = []
    for match in FENCE.finditer(text):
        before = text[: match.start()]
        line = before.count("\n") + 1
        previous = before[before.rstrip("\n").rfind("\n") + 1 :]
        marker = MARKER.search(previous)
        skip = expect = None
        if marker and marker.group(1) == "skip":
            skip = marker.group(2).strip("() ")
            assert skip, f"{path.name}:{line}: docs-check: skip needs a reason"
        elif marker:
            expect = int(marker.group(2))
        found.append(Block(path, line, match.group(1), match.group(2), skip, expect))
    return found


def doc_files() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


def runnable(path: Path) -> list[Block]:
    return [b for b in blocks(path) if b.language in RUN and b.skip is None]


def indented_code(path: Path) -> list[int]:
    """Line numbers of indented (unfenced) code blocks: a 4-space indented line after a
    blank one, outside fences and lists."""
    found, fenced, previous = [], False, ""
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and not previous and re.match(r"    [^\s*\-\d]", line):
            found.append(number)
        previous = line
    return found


def test_every_fence_names_its_language_and_skips_say_why() -> None:
    """So that no command escapes the check as an untagged or indented block."""
    for path in doc_files():
        for block in blocks(path):  # blocks() checks the reasons
            assert block.language, f"{block}: a fenced block without a language"
        assert not indented_code(path), f"{path.name}: indented code at {indented_code(path)}"


@dataclass
class Docs:
    server: InferiaServer
    env: dict[str, str]
    key: str


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Docs]:
    tmp = tmp_path_factory.mktemp("docs-check")
    fake = FakeUpstream([free_port()]).start()
    try:
        config = write_config(
            tmp / "inferia.toml",
            [{"name": "llama-3.1-8b", "base_url": fake.url()}],
            {"allow_private_api_upstreams": True},
        )
        with config.open("a") as toml:
            toml.write('\n[pricing."*"]\nprompt = 1.0\ncompletion = 2.0\n')
        env = inferia_env(
            tmp / "data",
            INFERIA_CONFIG=str(config),
            INFERIA_ADMIN_EMAIL=ADMIN_EMAIL,
            INFERIA_ADMIN_PASSWORD=ADMIN_PASSWORD,
            **CHEAP_ARGON2_ENV,
        )
        with InferiaServer(env, ["--plane", "inference", "--plane", "filtration"]) as server:
            created = run_cli(["keys", "create", "--name", "docs"], env)
            assert created.returncode == 0, created.stderr
            key = created.stdout.strip()
            login = httpx.post(
                f"{server.base_url}/auth/login",
                json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
                timeout=30,
            )
            assert login.status_code == 200, login.text
            env = {
                **env,
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                "INFERIA_URL": server.base_url,
                "INFERIA_EMAIL": ADMIN_EMAIL,
                "INFERIA_PASSWORD": ADMIN_PASSWORD,
                "INFERIA_API_KEY": key,
                "OPENAI_API_KEY": key,
                "TOKEN": login.json()["access_token"],
            }
            yield Docs(server, env, key)
    finally:
        fake.stop()


def expected_prints(code: str) -> list[str]:
    """The texts a block's comments say its prints show."""
    lines = code.splitlines()
    texts = []
    for index, line in enumerate(lines):
        if not line.lstrip().startswith("print("):
            continue
        trailing = re.search(r"\)\s*#\s*(.+)$", line)
        if trailing:
            texts.append(trailing.group(1).strip())
        elif index + 1 < len(lines) and lines[index + 1].lstrip().startswith("#"):
            texts.append(lines[index + 1].lstrip("# ").strip())
    return texts


def run_block(block: Block, docs: Docs, cwd: Path, last_id: list[str]) -> None:
    address = docs.server.base_url.removeprefix("http://")
    code = block.code.replace("127.0.0.1:8000", address).replace("sk-inf-...", docs.key)
    if block.language == "http":
        head, _, body = code.partition("\n")
        method, path = head.split()[:2]
        if "{id}" in path:
            assert last_id, f"{block}: {{id}} with no http block before it"
            path = path.replace("{id}", last_id[-1])
        reply = httpx.request(
            method,
            docs.server.base_url + path,
            headers={"authorization": f"Bearer {docs.env['TOKEN']}"},
            json=json.loads(body) if body.strip() else None,
            timeout=30,
        )
        if block.expect is not None:
            assert reply.status_code == block.expect, f"{block}: {reply.status_code} {reply.text}"
        else:
            assert reply.is_success, f"{block}: {reply.status_code} {reply.text}"
        if reply.content and isinstance(answer := reply.json(), dict) and "id" in answer:
            last_id.append(str(answer["id"]))
        return
    if block.language == "toml":
        settings = cwd / "inferia.toml"
        settings.write_text(code)
        shown = run_cli(["config", "show", "--config", str(settings)], docs.env)
        assert shown.returncode == 0, f"{block}: not valid settings: {shown.stderr}"
        return
    command = ["bash", "-e", "-o", "pipefail", "-c", CURL_FAILS + code]
    if block.language == "python":
        command = [sys.executable, "-c", code]
    ran = subprocess.run(
        command,
        env=docs.env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, f"{block} failed:\n{ran.stdout}\n{ran.stderr}"
    for text in expected_prints(code) if block.language == "python" else []:
        assert text in ran.stdout, f"{block}: prints no {text!r}:\n{ran.stdout}"


@pytest.mark.parametrize("path", [p for p in doc_files() if runnable(p)], ids=lambda p: p.name)
def test_doc_examples_run_as_written(docs_server: Docs, path: Path, tmp_path: Path) -> None:
    last_id: list[str] = []
    for block in runnable(path):
        run_block(block, docs_server, tmp_path, last_id)
