"""Queries of the organizations table (the table itself is in identity/tables.py: every
identity table hangs off it)."""

from __future__ import annotations

from inferia.db.errors import wrap_errors
from inferia.filtration.identity.tables import Organization
from inferia.filtration.members.tables import Membership
from inferia.filtration.roles.catalogue import OWNER_ROLE
from inferia.filtration.roles.tables import Role


async def id_by_slug(slug: str) -> str | None:
    async with wrap_errors():
        row = await Organization.select(Organization.id).where(Organization.slug == slug).first()
    return str(row["id"]) if row is not None else None


async def owner_role_id() -> str | None:
    async with wrap_errors():
        row = (
            await Role.select(Role.id)
            .where(Role.organization.is_null() & (Role.name == OWNER_ROLE))
            .first()
        )
    return str(row["id"]) if row is not None else None


async def insert(slug: str, name: str, owner_id: str, owner_role_id: str) -> str:
    """A new organisation with its owner's membership; in the caller's transaction."""
    organization = Organization(slug=slug, name=name)
    await organization.save()
    await Membership(user=owner_id, organization=organization.id, role=owner_role_id).save()
    return str(organization.id)
