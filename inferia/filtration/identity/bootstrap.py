"""First start (built-in roles, the default organisation, the first admin) and
creating users from the command line.

Both hash the password (~0.3 s of CPU) in a worker thread and BEFORE opening a
transaction: on SQLite a transaction holds the database's one write lock.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from inferia.core.errors import ConflictError, IntegrityViolation, NotFoundError, ValidationError
from inferia.db.errors import wrap_errors
from inferia.filtration.identity.tables import Organization, User
from inferia.filtration.members.tables import Membership
from inferia.filtration.roles.catalogue import BUILTIN_ROLE_PERMISSIONS, OWNER_ROLE
from inferia.filtration.roles.tables import Role

if TYPE_CHECKING:
    from inferia.db import Database
    from inferia.filtration.identity.passwords import PasswordHasher

DEFAULT_ORG_SLUG = "default"
DEFAULT_ORG_NAME = "Default"
MIN_PASSWORD_LENGTH = 12
# argon2 takes any length; a cap keeps one request from burning CPU on megabytes.
MAX_PASSWORD_LENGTH = 1024
MAX_EMAIL_LENGTH = 254
# A pragmatic shape check (local@host[.domain]), not RFC 5322: "admin@localhost"
# is a fine operator address. Whether the address receives mail is not our concern.
_EMAIL_RE = re.compile(
    r"[^@\s]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
)


@dataclass(frozen=True, slots=True)
class FirstStartResult:
    """What the CLI prints once: the admin's e-mail and, if generated, the password."""

    email: str
    generated_password: str | None
    organization_slug: str = DEFAULT_ORG_SLUG


def normalise_email(email: str) -> str:
    """E-mails are stored lower-cased, which makes the unique index case-insensitive."""
    return email.strip().lower()


def validate_email(email: str) -> str:
    """The normalised address, or ValidationError."""
    normalised = normalise_email(email)
    if len(normalised) > MAX_EMAIL_LENGTH or not _EMAIL_RE.fullmatch(normalised):
        raise ValidationError("not a valid e-mail address", param="email")
    return normalised


def validate_password(password: str, email: str, min_length: int = MIN_PASSWORD_LENGTH) -> None:
    """The password policy: long enough, bounded, and not the e-mail address."""
    if len(password) < min_length:
        raise ValidationError(
            f"the password needs at least {min_length} characters", param="password"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError(
            f"the password may have at most {MAX_PASSWORD_LENGTH} characters", param="password"
        )
    if normalise_email(password) == normalise_email(email):
        raise ValidationError("the password must not be the e-mail address", param="password")


async def ensure_first_start(
    db: Database,
    hasher: PasswordHasher,
    admin_email: str,
    admin_password: str | None,
) -> FirstStartResult | None:
    """On a database without users: create the built-in roles, the ``default``
    organisation and a superuser who owns it. None when there already are users.

    ``admin_password`` None generates one (returned once, for the CLI to print).
    Safe when several processes start at once: the unique indexes let one win,
    and the others see its users and return None.
    """
    # Almost every start is not the first: answer without validating, hashing or
    # locking (a since-changed admin password in the environment must not block
    # restarts).
    if await has_users():
        return None
    email = validate_email(admin_email)
    generated = None
    if admin_password is None:
        generated = admin_password = secrets.token_urlsafe(18)
    validate_password(admin_password, email)
    password_hash = await asyncio.to_thread(hasher.hash, admin_password)
    try:
        async with db.transaction():
            # Re-checked under the write lock (SQLite) or against committed rows (PostgreSQL).
            if await User.exists():
                return None
            roles = await _ensure_builtin_roles()
            organization = await _ensure_organization(DEFAULT_ORG_SLUG, DEFAULT_ORG_NAME)
            admin = User(email=email, password_hash=password_hash, is_superuser=True)
            await admin.save()
            await Membership(
                user=admin.id, organization=organization.id, role=roles[OWNER_ROLE].id
            ).save()
    except IntegrityViolation:
        # Another process bootstrapped concurrently and committed first.
        if await has_users():
            return None
        raise
    return FirstStartResult(email=email, generated_password=generated)


async def create_user(
    db: Database,
    hasher: PasswordHasher,
    email: str,
    password: str,
    org_slug: str,
    role_name: str,
    *,
    is_superuser: bool = False,
) -> User:
    """A new active user with ``role_name`` in the organisation ``org_slug``.

    ValidationError for a malformed e-mail or weak password, NotFoundError for an
    unknown organisation or role, ConflictError when the e-mail is taken.
    """
    email = validate_email(email)
    validate_password(password, email)
    async with wrap_errors():
        organization = await Organization.objects().get(Organization.slug == org_slug)
        if organization is None:
            raise NotFoundError(f"no organisation with slug {org_slug!r}", param="org")
        role = await _find_role(organization, role_name)
        if await User.exists().where(User.email == email):
            raise ConflictError("a user with this e-mail already exists", param="email")

    password_hash = await asyncio.to_thread(hasher.hash, password)
    user = User(email=email, password_hash=password_hash, is_superuser=is_superuser)
    try:
        async with db.transaction():
            await user.save()
            await Membership(user=user.id, organization=organization.id, role=role.id).save()
    except IntegrityViolation as exc:
        # Lost a race with a concurrent create of the same e-mail.
        raise ConflictError("a user with this e-mail already exists", param="email") from exc
    return user


async def has_users() -> bool:
    """False on a database no ``inferia serve`` or ``inferia migrate`` has set up."""
    async with wrap_errors():
        return bool(await User.exists())


async def _find_role(organization: Organization, role_name: str) -> Role:
    """The organisation's own role of that name, else the built-in one."""
    own = await Role.objects().get(
        (Role.organization == organization.id) & (Role.name == role_name)
    )
    if own is not None:
        return own
    builtin = await Role.objects().get(Role.organization.is_null() & (Role.name == role_name))
    if builtin is None:
        raise NotFoundError(f"no role named {role_name!r}", param="role")
    return builtin


async def _ensure_builtin_roles() -> dict[str, Role]:
    existing = {role.name: role for role in await Role.objects().where(Role.organization.is_null())}
    for name, permissions in BUILTIN_ROLE_PERMISSIONS.items():
        if name not in existing:
            role = Role(name=name, permissions=json.dumps(permissions), builtin=True)
            await role.save()
            existing[name] = role
    return existing


async def _ensure_organization(slug: str, name: str) -> Organization:
    organization = await Organization.objects().get(Organization.slug == slug)
    if organization is None:
        organization = Organization(slug=slug, name=name)
        await organization.save()
    return organization
