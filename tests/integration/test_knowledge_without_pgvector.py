"""PostgreSQL where pgvector cannot be used: start-up says so, and creating a knowledge
base is refused with a clear error instead of degrading silently.

The extension is installed on this machine's server (CI installs it), so the test
connects as a role that may not create it (pgvector is not a trusted extension): the
same outcome as a server without the extension.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import msgspec
import pytest

from inferia.config import KnowledgeSettings
from tests.identity_support import bearer, identity_client, identity_settings, login
from tests.services import require_postgres


@pytest.fixture
async def unprivileged_database() -> AsyncIterator[str]:
    admin_url = require_postgres()
    role = f"inferia_plain_{uuid.uuid4().hex[:8]}"
    password = secrets.token_hex(12)
    name = f"inferia_test_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'")
        await connection.execute(f'CREATE DATABASE "{name}" OWNER "{role}"')
    finally:
        await connection.close()
    parts = urlsplit(admin_url)
    netloc = f"{role}:{password}@{parts.hostname}:{parts.port or 5432}"
    try:
        yield urlunsplit(parts._replace(netloc=netloc, path=f"/{name}"))
    finally:
        connection = await asyncpg.connect(admin_url)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await connection.execute(f'DROP ROLE IF EXISTS "{role}"')
        finally:
            await connection.close()


async def test_knowledge_bases_are_refused_without_pgvector(
    unprivileged_database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    settings = identity_settings(tmp_path, unprivileged_database, "", planes=("filtration",))
    settings = msgspec.structs.replace(settings, knowledge=KnowledgeSettings())
    async with identity_client(settings) as client:
        headers = bearer((await login(client))["access_token"])
        reply = await client.post(
            "/management/knowledge-bases",
            headers=headers,
            json={"name": "handbook", "embedding_model": "any"},
        )
        listed = await client.get("/management/knowledge-bases", headers=headers)
    assert reply.status_code == 503, reply.text
    assert reply.json()["error"]["code"] == "knowledge_bases_unavailable"
    assert "pgvector" in reply.json()["error"]["message"]
    assert listed.json()["data"] == []
    assert any("knowledge bases are disabled" in r.getMessage() for r in caplog.records)
