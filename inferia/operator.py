"""Operator actions for the CLI: open the database and state backend, act, close.

Key changes are announced on the state backend, so running servers that share it
(Redis) drop their cached copy at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

from inferia.config import Settings
from inferia.core.errors import NotFoundError
from inferia.db import Database
from inferia.filtration.identity.bootstrap import create_user as create_user_row
from inferia.filtration.identity.passwords import PasswordHasher
from inferia.filtration.identity.tables import Organization
from inferia.filtration.keys import ApiKeyStore
from inferia.filtration.keys.store import ApiKeyRecord, CreatedApiKey
from inferia.preflight import prepare_storage
from inferia.state import StateBackend, build_state_backend


@asynccontextmanager
async def _backends(settings: Settings) -> AsyncIterator[tuple[Database, StateBackend]]:
    await prepare_storage(settings)
    database = Database(settings.database, settings.data_path)
    state = build_state_backend(settings.state.url)
    await database.start()
    await state.start()
    try:
        yield database, state
    finally:
        await state.close()
        await database.close()


async def _organization_id(slug: str) -> str:
    row = await Organization.select(Organization.id).where(Organization.slug == slug).first()
    if row is None:
        raise NotFoundError(f"organization '{slug}' not found")
    return str(row["id"])


async def create_user(settings: Settings, email: str, password: str, org: str, role: str) -> str:
    async with _backends(settings) as (database, _):
        user = await create_user_row(database, PasswordHasher(), email, password, org, role)
        return str(user.email)


async def create_key(
    settings: Settings,
    org: str,
    name: str,
    *,
    models: Sequence[str] = (),
    expires_at: datetime | None = None,
) -> CreatedApiKey:
    async with _backends(settings) as (_, state):
        store = ApiKeyStore(state, settings.security.api_key_pepper)
        return await store.create(
            await _organization_id(org), name, allowed_models=models, expires_at=expires_at
        )


async def list_keys(settings: Settings, org: str) -> list[ApiKeyRecord]:
    async with _backends(settings) as (_, state):
        store = ApiKeyStore(state, settings.security.api_key_pepper)
        return await store.list(await _organization_id(org))


async def revoke_key(settings: Settings, key: str) -> ApiKeyRecord:
    async with _backends(settings) as (_, state):
        return await ApiKeyStore(state, settings.security.api_key_pepper).revoke(None, key)
