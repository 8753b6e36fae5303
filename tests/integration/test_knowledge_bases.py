"""Knowledge bases over HTTP on both backend pairs (SQLite + the exact numpy index;
PostgreSQL + pgvector + Redis streams), with the local embeddings plugin.

Uploads go through the real multipart route, ingestion through the state backend's
stream and the app's own consumer; searches must find the one document that answers
each question of a fixed corpus.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest

from inferia.config import KnowledgeSettings, Settings
from inferia.filtration.audit import AuditContext, AuditTrail
from inferia.filtration.changes import Changes
from inferia.filtration.organizations.service import OrganizationService
from tests.conftest import BackendPair
from tests.identity_support import ADMIN_EMAIL, bearer, identity_client, identity_settings, login
from tests.knowledge_support import (
    CORPUS_TEXT,
    QUESTIONS,
    encrypted_pdf,
    file_bytes,
    upload,
    wait_done,
)
from tests.services import require_module

MODEL = "minilm"


def _settings(pair: BackendPair, **knowledge: Any) -> Settings:
    require_module("inferia_embeddings_local")
    settings = identity_settings(
        pair.data_dir, pair.database_url, pair.state_url, planes=("filtration", "inference")
    )
    return msgspec.structs.replace(
        settings,
        knowledge=KnowledgeSettings(
            local_embedding_models=[MODEL], max_upload_bytes=200_000, **knowledge
        ),
    )


@pytest.fixture
async def client(backend_pair: BackendPair) -> AsyncIterator[httpx.AsyncClient]:
    async with identity_client(_settings(backend_pair)) as client:
        yield client


async def _admin(client: httpx.AsyncClient) -> dict[str, str]:
    return bearer((await login(client))["access_token"])


async def _base(client: httpx.AsyncClient, headers: dict[str, str], name: str = "handbook") -> str:
    reply = await client.post(
        "/management/knowledge-bases",
        headers=headers,
        json={"name": name, "embedding_model": MODEL, "chunk_tokens": 64, "chunk_overlap": 8},
    )
    # PostgreSQL without pgvector answers 503 here: the suite must fail, not skip.
    assert reply.status_code == 201, reply.text
    return str(reply.json()["id"])


async def _ingested(client: httpx.AsyncClient, headers: dict[str, str], base: str) -> None:
    for name in CORPUS_TEXT:
        reply = await upload(client, headers, base, name, file_bytes(name), title=name.upper())
        assert reply.status_code == 202, reply.text
        assert reply.json()["state"] == "queued"
        done = await wait_done(client, headers, base, reply.json()["id"])
        assert done["state"] == "ready", done
        assert done["progress"]["chunks_done"] == done["progress"]["chunks_total"] > 0


async def _search(
    client: httpx.AsyncClient, headers: dict[str, str], base: str, query: str, top_k: int = 2
) -> httpx.Response:
    return await client.post(
        f"/management/knowledge-bases/{base}/search",
        headers=headers,
        json={"query": query, "top_k": top_k},
    )


async def test_search_finds_the_document_that_answers(client: httpx.AsyncClient) -> None:
    headers = await _admin(client)
    base = await _base(client, headers)
    await _ingested(client, headers, base)
    documents = (
        await client.get(f"/management/knowledge-bases/{base}/documents", headers=headers)
    ).json()["data"]
    titles = {doc["id"]: doc["name"] for doc in documents}
    for question, answer in QUESTIONS.items():
        reply = await _search(client, headers, base, question)
        assert reply.status_code == 200, reply.text
        hits = reply.json()["data"]
        assert hits, question
        assert titles[hits[0]["document_id"]] == answer, (question, hits)
        assert hits[0]["title"] == answer.upper()
        assert hits[0]["score"] > 0.3
    # The HTML's script and style never reach the index.
    hits = (await _search(client, headers, base, "never indexed", top_k=5)).json()["data"]
    assert all("never indexed" not in hit["text"] for hit in hits)


async def test_delete_and_reupload(client: httpx.AsyncClient) -> None:
    headers = await _admin(client)
    base = await _base(client, headers)
    first = (await upload(client, headers, base, "parking.txt", file_bytes("parking.txt"))).json()
    assert (await wait_done(client, headers, base, first["id"]))["state"] == "ready"
    question = "When does the parking garage close?"
    assert "10 pm" in (await _search(client, headers, base, question)).json()["data"][0]["text"]

    # The same name again replaces the first version once the new one is ready.
    new_text = b"The parking garage under building B now closes at midnight."
    second = (await upload(client, headers, base, "parking.txt", new_text)).json()
    assert (await wait_done(client, headers, base, second["id"]))["state"] == "ready"
    listed = (
        await client.get(f"/management/knowledge-bases/{base}/documents", headers=headers)
    ).json()["data"]
    assert [doc["id"] for doc in listed] == [second["id"]]
    hits = (await _search(client, headers, base, question, top_k=5)).json()["data"]
    assert [hit["document_id"] for hit in hits] == [second["id"]]
    assert "midnight" in hits[0]["text"]

    # Deleting the document removes its chunks from search.
    reply = await client.delete(
        f"/management/knowledge-bases/{base}/documents/{second['id']}", headers=headers
    )
    assert reply.status_code == 204
    assert (await _search(client, headers, base, question)).json()["data"] == []
    # Deleting the knowledge base: it is gone.
    assert (
        await client.delete(f"/management/knowledge-bases/{base}", headers=headers)
    ).status_code == 204
    assert (
        await client.get(f"/management/knowledge-bases/{base}", headers=headers)
    ).status_code == 404


@pytest.mark.parametrize(
    ("name", "data", "kind", "status"),
    [
        ("big.txt", b"x " * 150_000, "text/plain", 413),
        ("empty.txt", b"   \n", "text/plain", 422),
        ("sheet.xlsx", b"PK\x03\x04 not supported", "application/vnd.ms-excel", 415),
        ("binary.bin", b"\x00\x01", "application/octet-stream", 415),
    ],
)
async def test_bad_uploads_are_refused(
    client: httpx.AsyncClient, name: str, data: bytes, kind: str, status: int
) -> None:
    headers = await _admin(client)
    base = await _base(client, headers)
    reply = await upload(client, headers, base, name, data, kind)
    assert reply.status_code == status, reply.text
    assert reply.json()["error"]["message"]
    listed = (
        await client.get(f"/management/knowledge-bases/{base}/documents", headers=headers)
    ).json()["data"]
    assert listed == []


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("corrupt.pdf", b"%PDF-1.4\nthis is not a PDF at all", "cannot be read"),
        ("locked.pdf", encrypted_pdf(), "encrypted"),
        ("blank.html", b"<html><body><script>x()</script></body></html>", "no text"),
        ("latin1.txt", "caf\xe9".encode("latin-1"), "not UTF-8"),
    ],
)
async def test_unreadable_documents_fail_with_a_reason(
    client: httpx.AsyncClient, name: str, data: bytes, reason: str
) -> None:
    headers = await _admin(client)
    base = await _base(client, headers)
    reply = await upload(client, headers, base, name, data)
    assert reply.status_code == 202, reply.text
    done = await wait_done(client, headers, base, reply.json()["id"])
    assert done["state"] == "failed"
    assert reason in done["error"]
    hits = (await _search(client, headers, base, "a secret cafe")).json()["data"]
    assert hits == []


async def test_bad_definitions_are_refused(client: httpx.AsyncClient) -> None:
    headers = await _admin(client)
    path = "/management/knowledge-bases"
    for body in (
        {"name": "x", "embedding_model": MODEL, "chunk_tokens": 32, "chunk_overlap": 32},
        {"name": "has space", "embedding_model": MODEL},
        {"name": "x", "embedding_model": MODEL, "extra": 1},
        {"name": "x"},
    ):
        reply = await client.post(path, headers=headers, json=body)
        assert 400 <= reply.status_code < 500, (body, reply.text)
    await _base(client, headers, "twice")
    reply = await client.post(
        path, headers=headers, json={"name": "twice", "embedding_model": MODEL}
    )
    assert reply.status_code == 409


async def test_other_organisations_see_nothing(client: httpx.AsyncClient) -> None:
    headers = await _admin(client)
    base = await _base(client, headers)
    name = "vacation.md"
    doc = (await upload(client, headers, base, name, file_bytes(name))).json()
    assert (await wait_done(client, headers, base, doc["id"]))["state"] == "ready"

    runtime = client._transport.app.state["runtime"]  # type: ignore[attr-defined]
    organizations = OrganizationService(Changes(runtime.database, AuditTrail(), runtime.state))
    await organizations.create(AuditContext.operator(), "other-org", "Other", ADMIN_EMAIL)
    other = bearer((await login(client, organization="other-org"))["access_token"])

    root = f"/management/knowledge-bases/{base}"
    assert (await client.get("/management/knowledge-bases", headers=other)).json()["data"] == []
    assert (await client.get(root, headers=other)).status_code == 404
    assert (await client.get(f"{root}/documents", headers=other)).status_code == 404
    assert (await client.get(f"{root}/documents/{doc['id']}", headers=other)).status_code == 404
    assert (await _search(client, other, base, "vacation days")).status_code == 404
    assert (await upload(client, other, base, name, file_bytes(name))).status_code == 404
    assert (await client.delete(f"{root}/documents/{doc['id']}", headers=other)).status_code == 404
    assert (await client.delete(root, headers=other)).status_code == 404
    # The same name in the other organisation is another knowledge base.
    other_base = await _base(client, other)
    assert other_base != base
    assert (await _search(client, other, other_base, "vacation days")).json()["data"] == []
    # And the first organisation's data is intact.
    assert (await _search(client, headers, base, "vacation days")).json()["data"]


async def test_changes_are_audited(client: httpx.AsyncClient) -> None:
    headers = await _admin(client)
    base = await _base(client, headers)
    await upload(client, headers, base, "parking.txt", file_bytes("parking.txt"))
    reply = await client.get("/audit/logs", headers=headers, params={"limit": 50})
    assert reply.status_code == 200, reply.text
    actions = {entry["action"] for entry in reply.json()["data"]}
    assert {"knowledge_base.create", "knowledge_base.document.upload"} <= actions


async def test_deleting_a_document_mid_ingestion_leaves_no_chunks(
    client: httpx.AsyncClient,
) -> None:
    from inferia.filtration.knowledge_bases.tables import KnowledgeBase

    headers = await _admin(client)
    reply = await client.post(
        "/management/knowledge-bases",
        headers=headers,
        json={"name": "big", "embedding_model": MODEL, "chunk_tokens": 16, "chunk_overlap": 0},
    )
    base = reply.json()["id"]
    text = " ".join(f"Sentence {i} of a long document about rule {i}." for i in range(400))
    doc = (await upload(client, headers, base, "long.txt", text.encode())).json()
    path = f"/management/knowledge-bases/{base}/documents/{doc['id']}"
    for _ in range(600):
        progress = (await client.get(path, headers=headers)).json()["progress"]
        if progress["chunks_done"] > 0:
            break
        await asyncio.sleep(0.05)
    assert 0 < progress["chunks_done"] < progress["chunks_total"], progress
    assert (await client.delete(path, headers=headers)).status_code == 204

    async def stored() -> int:
        rows = await KnowledgeBase.raw(
            'SELECT count(*) AS n FROM "kb_chunks" WHERE "knowledge_base_id" = {}', base
        )
        return int(rows[0]["n"])

    # The ingester notices at its next batch and removes what it stored meanwhile.
    for _ in range(100):
        if await stored() == 0:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)
    assert await stored() == 0
    assert (await client.get(path, headers=headers)).status_code == 404
