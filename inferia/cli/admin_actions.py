"""Operator actions for the CLI: open the database and state backend, act, close.

The actions go through the services the filtration plane serves (``IdentityServices``
over one ``Changes``), so each is audited as the ``AuditContext.operator()`` and its
change events reach running servers that share the state backend (Redis): a revoked
key stops working there at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from inferia.cli.preflight import prepare_storage
from inferia.config import Settings
from inferia.core.errors import ValidationError
from inferia.db import Database
from inferia.filtration.access import Caller
from inferia.filtration.api_keys.schemas import ApiKeyRecord, CreatedApiKey
from inferia.filtration.audit import AuditContext, AuditTrail
from inferia.filtration.changes import Change, Changes
from inferia.filtration.identity_services import IdentityServices
from inferia.filtration.members.schemas import MemberRecord
from inferia.filtration.organizations.service import organization_id_of
from inferia.filtration.roles.catalogue import ALL_PERMISSIONS, OWNER_ROLE
from inferia.limits import LimitValues
from inferia.state import StateBackend, build_state_backend
from inferia.tables import all_tables


@asynccontextmanager
async def _backends(settings: Settings) -> AsyncIterator[tuple[Database, StateBackend]]:
    await prepare_storage(settings, create=False)
    database = Database(settings.database, settings.data_path, all_tables())
    state = build_state_backend(settings.state.url)
    await database.start()
    await state.start()
    try:
        yield database, state
    finally:
        await state.close()
        await database.close()


@asynccontextmanager
async def _services(settings: Settings) -> AsyncIterator[IdentityServices]:
    """The identity services as the plane builds them, over this command's backends."""
    async with _backends(settings) as (database, state):
        yield IdentityServices(settings, state, Changes(database, AuditTrail(), state))


async def _organization_id(slug: str) -> str:
    return await organization_id_of(slug)


def _operator(organization_id: str) -> Caller:
    """The CLI acts as a platform operator inside the organisation it names."""
    return Caller(
        user_id="",
        organization_id=organization_id,
        email="operator",
        role=OWNER_ROLE,
        permissions=frozenset(ALL_PERMISSIONS),
        is_superuser=True,
    )


async def create_user(settings: Settings, email: str, password: str, org: str, role: str) -> str:
    async with _services(settings) as services:
        organization_id = await services.organizations.id_of(org)
        member = await services.members.create(
            _operator(organization_id),
            AuditContext.operator(organization_id),
            email,
            password,
            role,
        )
        return member.email


async def create_organization(settings: Settings, slug: str, name: str, owner_email: str) -> str:
    """A new organisation; ``owner_email`` (an existing account) becomes its owner."""
    async with _services(settings) as services:
        return await services.organizations.create(AuditContext.operator(), slug, name, owner_email)


async def verify_email(settings: Settings, email: str) -> str:
    """Mark an account's e-mail address verified (the operator checked the person
    controls it); the account's id."""
    async with _services(settings) as services:
        return await services.members.verify_email(AuditContext.operator(), email)


async def list_members(settings: Settings, org: str) -> list[MemberRecord]:
    async with _services(settings) as services:
        return await services.members.list(await services.organizations.id_of(org))


async def update_member(settings: Settings, org: str, email: str, **changes: Any) -> MemberRecord:
    """Assign a role or (de)activate a member, as ``PATCH /admin/users/{id}`` does."""
    async with _services(settings) as services:
        organization_id = await services.organizations.id_of(org)
        return await services.members.update(
            _operator(organization_id),
            AuditContext.operator(organization_id),
            await services.members.user_id_of(email),
            **changes,
        )


async def reset_password(settings: Settings, email: str, password: str) -> str:
    """Set an account's password and end its sessions (a locked-out admin's way back)."""
    async with _services(settings) as services:
        return await services.passwords.reset(email, password, AuditContext.operator())


async def reencrypt_secrets(settings: Settings) -> int:
    """Re-seal secrets under the current encryption key (after rotating it)."""
    async with _services(settings) as services:
        return await services.two_factor.reencrypt_all(AuditContext.operator())


async def create_key(
    settings: Settings,
    org: str,
    name: str,
    *,
    models: Sequence[str] = (),
    expires_at: datetime | None = None,
    limits: LimitValues | None = None,
) -> CreatedApiKey:
    """A new key; with ``limits``, its own api_key policy in the same transaction
    (checked before anything is written: a budget needs [pricing])."""
    from inferia.filtration.policies.service import PolicyService
    from inferia.filtration.policies.store import PolicyStore

    store = PolicyStore(settings.pricing, [m.name for m in settings.models])
    if limits is not None:
        try:
            store.check_prices("*", limits)
        except ValidationError as exc:
            raise _as_flag_error(exc) from None
    async with _services(settings) as services:
        organization_id = await services.organizations.id_of(org)
        policies = PolicyService(store, services.changes)

        async def own_limits(record: ApiKeyRecord, change: Change) -> None:
            assert limits is not None
            await policies.add(
                change,
                organization_id,
                scope="api_key",
                subject=record.id,
                model="*",
                limits=limits,
            )

        return await services.api_keys.create(
            AuditContext.operator(organization_id),
            organization_id,
            name,
            allowed_models=models,
            expires_at=expires_at,
            also=own_limits if limits is not None else None,
        )


async def list_keys(
    settings: Settings, org: str, *, include_revoked: bool = False
) -> list[ApiKeyRecord]:
    async with _services(settings) as services:
        return await services.api_keys.list(
            await services.organizations.id_of(org), include_revoked=include_revoked
        )


async def revoke_key(settings: Settings, key: str) -> ApiKeyRecord:
    async with _services(settings) as services:
        return await services.api_keys.revoke(AuditContext.operator(), None, key)


async def pepper_status(settings: Settings) -> dict[str, int]:
    async with _services(settings) as services:
        return await services.api_key_store.pepper_status()


# Limits given to `inferia keys create` (flag -> limit field).
_KEY_LIMIT_FLAGS = {
    "rpm": "rpm",
    "tpm": "tpm",
    "max_parallel": "max_parallel",
    "daily_tokens": "daily_tokens",
    "monthly_budget": "monthly_budget",
}


def key_limits_from_flags(args: Any) -> LimitValues | None:
    """The limits set by --rpm/--tpm/...; None when no flag was given."""
    from inferia.filtration.policies.store import parse_limits

    raw = {
        f: getattr(args, a)
        for a, f in _KEY_LIMIT_FLAGS.items()
        if getattr(args, a, None) is not None
    }
    if not raw:
        return None
    try:
        return parse_limits(raw)
    except ValidationError as exc:
        raise _as_flag_error(exc) from None


def _as_flag_error(exc: ValidationError) -> ValidationError:
    """The error of a limit, naming the command-line flag that set it."""
    flag = "--" + (exc.param or "").removeprefix("limits.").replace("_", "-")
    return ValidationError(f"{flag}: {exc.message}", param=exc.param)
