"""Killing the ingestion consumer mid-document (SIGKILL of the whole server) and starting
a new server: the document ends ``ready`` with every chunk stored exactly once.

Both backend pairs: on PostgreSQL + Redis the dead consumer's job stays pending in the
stream and is claimed; on SQLite + memory the job died with the process and the new
server queues the unfinished document again. Either way the chunks already committed
are kept and only the rest is embedded.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.limits_cluster import ScratchPostgres, fresh_redis, kill_tree, serving
from tests.identity_support import ADMIN_EMAIL, ADMIN_PASSWORD, CHEAP_ARGON2_ENV
from tests.knowledge_support import admin_headers
from tests.processes import InferiaServer, inferia_env, wait_until
from tests.services import require_module

pytestmark = pytest.mark.e2e
REDIS_DB = 5  # a slot: INFERIA_TEST_REDIS_URL's database + 5 (tests/services.py)
# ~300 chunks of 16 tokens: long enough to kill the server part way through.
TEXT = " ".join(f"Paragraph {i} of the long handbook explains rule number {i}." for i in range(400))


@contextmanager
def _backend(pair: str, data_dir: Path) -> Iterator[dict[str, str]]:
    if pair == "sqlite+memory":
        yield {}
        return
    with ScratchPostgres() as database_url:
        yield {
            "INFERIA_DATABASE__URL": database_url,
            "INFERIA_STATE__URL": fresh_redis(REDIS_DB),
        }


def _chunks(pair: str, data_dir: Path, backend: dict[str, str], document_id: str) -> list[int]:
    sql = 'SELECT "position" FROM "kb_chunks" WHERE "document_id" = '
    if pair == "sqlite+memory":
        with sqlite3.connect(data_dir / "inferia.sqlite3") as connection:
            rows = connection.execute(sql + "?", (document_id,)).fetchall()
        return [row[0] for row in rows]

    async def fetch() -> list[int]:
        import asyncpg

        connection = await asyncpg.connect(backend["INFERIA_DATABASE__URL"])
        try:
            rows = await connection.fetch(sql + "$1::uuid", document_id)
        finally:
            await connection.close()
        return [row[0] for row in rows]

    return asyncio.run(fetch())


def _document(server: InferiaServer, headers: dict[str, str], path: str) -> dict[str, Any]:
    reply = httpx.get(f"{server.base_url}{path}", headers=headers, timeout=10)
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


@pytest.mark.parametrize("pair", ["sqlite+memory", "postgres+redis"])
def test_killed_ingestion_resumes_and_stores_each_chunk_once(pair: str, tmp_path: Path) -> None:
    require_module("inferia_embeddings_local")
    with _backend(pair, tmp_path) as backend:
        env = inferia_env(
            tmp_path,
            INFERIA_ADMIN_EMAIL=ADMIN_EMAIL,
            INFERIA_ADMIN_PASSWORD=ADMIN_PASSWORD,
            INFERIA_DATABASE__MIGRATE_ON_START="true",
            INFERIA_KNOWLEDGE__LOCAL_EMBEDDING_MODELS='["minilm"]',
            INFERIA_KNOWLEDGE__EMBED_BATCH_SIZE="1",
            INFERIA_KNOWLEDGE__CLAIM_IDLE_S="1",
            **CHEAP_ARGON2_ENV,
            **backend,
        )
        args = ["--plane", "filtration", "--plane", "inference"]
        first = InferiaServer(env, args).start()
        try:
            headers = admin_headers(first.base_url)
            base = httpx.post(
                f"{first.base_url}/management/knowledge-bases",
                headers=headers,
                json={
                    "name": "handbook",
                    "embedding_model": "minilm",
                    "chunk_tokens": 16,
                    "chunk_overlap": 4,
                },
            )
            assert base.status_code == 201, base.text
            root = f"/management/knowledge-bases/{base.json()['id']}/documents"
            reply = httpx.post(
                f"{first.base_url}{root}",
                headers=headers,
                files={"file": ("handbook.txt", TEXT.encode(), "text/plain")},
            )
            assert reply.status_code == 202, reply.text
            path = f"{root}/{reply.json()['id']}"
            wait_until(
                lambda: _document(first, headers, path)["progress"]["chunks_done"] >= 20,
                timeout=60,
            )
        finally:
            kill_tree(first)
            first.stop()
        document_id = path.rsplit("/", 1)[-1]
        before = _chunks(pair, tmp_path, backend, document_id)
        with serving(env, args) as second:
            headers = admin_headers(second.base_url)
            in_between = _document(second, headers, path)
            assert in_between["state"] == "embedding", in_between
            total = in_between["progress"]["chunks_total"]
            assert 20 <= len(before) < total, "the consumer was not killed mid-document"
            wait_until(lambda: _document(second, headers, path)["state"] == "ready", timeout=120)
            done = _document(second, headers, path)
        positions = _chunks(pair, tmp_path, backend, document_id)
    assert done["progress"] == {"chunks_done": total, "chunks_total": total}
    assert sorted(positions) == list(range(total))
