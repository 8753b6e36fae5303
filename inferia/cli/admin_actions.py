"""Operator actions for the CLI: open the database and state backend, act, close.

Key changes are announced on the state backend, so running servers that share it
(Redis) drop their cached copy at once.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from inferia.cli.preflight import prepare_storage
from inferia.config import Settings
from inferia.core.crypto import SecretBox
from inferia.core.errors import ConflictError, IntegrityViolation, NotFoundError, ValidationError
from inferia.db import Database
from inferia.filtration.access import Caller
from inferia.filtration.audit import AuditContext, AuditTrail
from inferia.filtration.identity.members import MemberRecord, MemberService
from inferia.filtration.identity.passwords import PasswordHasher
from inferia.filtration.identity.roles import RoleService
from inferia.filtration.identity.roles_catalogue import ALL_PERMISSIONS, OWNER_ROLE
from inferia.filtration.identity.tables import Membership, Organization, Role, User
from inferia.filtration.identity.throttle import LoginThrottle
from inferia.filtration.identity.twofactor import TwoFactor
from inferia.filtration.keys import ApiKeyStore
from inferia.filtration.keys.store import ApiKeyRecord, CreatedApiKey
from inferia.limits import LimitValues
from inferia.state import StateBackend, build_state_backend
from inferia.tables import all_tables

_SLUG_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


@asynccontextmanager
async def _backends(settings: Settings) -> AsyncIterator[tuple[Database, StateBackend]]:
    await prepare_storage(settings)
    database = Database(settings.database, settings.data_path, all_tables())
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


def _api_keys(settings: Settings, database: Database, state: StateBackend) -> ApiKeyStore:
    security = settings.security
    return ApiKeyStore(
        database,
        state,
        AuditTrail(),
        security.api_key_pepper,
        previous_peppers=security.previous_api_key_peppers,
    )


def _members(settings: Settings, database: Database) -> MemberService:
    audit = AuditTrail()
    return MemberService(
        database,
        PasswordHasher.from_settings(settings.auth),
        RoleService(database, audit),
        audit,
        settings.auth.password_min_length,
    )


async def create_user(settings: Settings, email: str, password: str, org: str, role: str) -> str:
    async with _backends(settings) as (database, _):
        organization_id = await _organization_id(org)
        member = await _members(settings, database).create(
            _operator(organization_id),
            AuditContext.operator(organization_id),
            email,
            password,
            role,
        )
        return member.email


async def create_organization(settings: Settings, slug: str, name: str, owner_email: str) -> str:
    """A new organisation; ``owner_email`` (an existing account) becomes its owner."""
    if not _SLUG_RE.fullmatch(slug):
        raise ValidationError(
            "slugs are 1-63 characters: lower-case letters, digits and '-'", param="slug"
        )
    async with _backends(settings) as (database, _):
        owner = await User.select(User.id).where(User.email == owner_email.lower()).first()
        if owner is None:
            raise NotFoundError(f"no user with e-mail {owner_email!r}")
        role = (
            await Role.select(Role.id)
            .where(Role.organization.is_null() & (Role.name == OWNER_ROLE))
            .first()
        )
        assert role is not None  # created on first start
        organization = Organization(slug=slug, name=name or slug)
        try:
            async with database.transaction():
                await organization.save()
                await Membership(
                    user=owner["id"], organization=organization.id, role=role["id"]
                ).save()
                await AuditTrail().record_as(
                    AuditContext.operator(str(organization.id)),
                    "organization.create",
                    target=str(organization.id),
                    details={"slug": slug, "owner": owner_email.lower()},
                )
        except IntegrityViolation:
            raise ConflictError(f"an organisation with slug {slug!r} exists") from None
        return str(organization.id)


async def list_members(settings: Settings, org: str) -> list[MemberRecord]:
    async with _backends(settings) as (database, _):
        return await _members(settings, database).list(await _organization_id(org))


async def update_member(settings: Settings, org: str, email: str, **changes: Any) -> MemberRecord:
    """Assign a role or (de)activate a member, as ``PATCH /admin/users/{id}`` does."""
    async with _backends(settings) as (database, _):
        organization_id = await _organization_id(org)
        user = await User.select(User.id).where(User.email == email.lower()).first()
        if user is None:
            raise NotFoundError(f"no user with e-mail {email!r}")
        return await _members(settings, database).update(
            _operator(organization_id),
            AuditContext.operator(organization_id),
            str(user["id"]),
            **changes,
        )


async def reencrypt_secrets(settings: Settings) -> int:
    """Re-seal secrets under the current encryption key (after rotating it)."""
    async with _backends(settings) as (database, state):
        security = settings.security
        audit = AuditTrail()
        hasher = PasswordHasher.from_settings(settings.auth)
        box = SecretBox(security.encryption_key, security.previous_encryption_keys)
        two_factor = TwoFactor(
            database, box, hasher, audit, LoginThrottle(state, settings.auth), settings.auth
        )
        return await two_factor.reencrypt_all()


async def create_key(
    settings: Settings,
    org: str,
    name: str,
    *,
    models: Sequence[str] = (),
    expires_at: datetime | None = None,
) -> CreatedApiKey:
    async with _backends(settings) as (database, state):
        organization_id = await _organization_id(org)
        return await _api_keys(settings, database, state).create(
            AuditContext.operator(organization_id),
            organization_id,
            name,
            allowed_models=models,
            expires_at=expires_at,
        )


async def list_keys(
    settings: Settings, org: str, *, include_revoked: bool = False
) -> list[ApiKeyRecord]:
    async with _backends(settings) as (database, state):
        return await _api_keys(settings, database, state).list(
            await _organization_id(org), include_revoked=include_revoked
        )


async def revoke_key(settings: Settings, key: str) -> ApiKeyRecord:
    async with _backends(settings) as (database, state):
        return await _api_keys(settings, database, state).revoke(AuditContext.operator(), None, key)


async def pepper_status(settings: Settings) -> dict[str, int]:
    async with _backends(settings) as (database, state):
        return await _api_keys(settings, database, state).pepper_status()


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
        flag = "--" + (exc.param or "").removeprefix("limits.").replace("_", "-")
        raise ValidationError(f"{flag}: {exc.message}", param=exc.param) from None


async def set_key_limits(settings: Settings, org: str, key_id: str, limits: LimitValues) -> None:
    """Give a key its own limits (an api_key policy); running servers pick it up at once."""
    from inferia.contracts.policies import POLICY_CHANGES_CHANNEL
    from inferia.filtration.policies.store import PolicyStore

    async with _backends(settings) as (database, state):
        store = PolicyStore(settings.pricing, [m.name for m in settings.models])
        organization_id = await _organization_id(org)
        async with database.transaction():
            await store.create(
                organization_id, scope="api_key", subject=key_id, model="*", limits=limits
            )
        await state.publish(POLICY_CHANGES_CHANNEL, organization_id.encode())
