"""Organisations: created by a platform operator (``inferia admin create-org``); there is
no HTTP route for them. People move between them with ``/auth/switch-org``."""

from __future__ import annotations

import re

from inferia.core.errors import ConflictError, IntegrityViolation, NotFoundError, ValidationError
from inferia.filtration.audit import AuditContext
from inferia.filtration.changes import Changes
from inferia.filtration.identity import store as accounts
from inferia.filtration.organizations import store

_SLUG_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


async def organization_id_of(slug: str) -> str:
    """An organisation's id by slug; NotFoundError otherwise."""
    organization_id = await store.id_by_slug(slug)
    if organization_id is None:
        raise NotFoundError(f"organization '{slug}' not found")
    return organization_id


class OrganizationService:
    def __init__(self, changes: Changes) -> None:
        self._changes = changes

    async def id_of(self, slug: str) -> str:
        return await organization_id_of(slug)

    async def create(self, context: AuditContext, slug: str, name: str, owner_email: str) -> str:
        """A new organisation; ``owner_email`` (an existing account) becomes its owner."""
        if not _SLUG_RE.fullmatch(slug):
            raise ValidationError(
                "slugs are 1-63 characters: lower-case letters, digits and '-'", param="slug"
            )
        owner = await accounts.user_by_email(owner_email.lower())
        if owner is None:
            raise NotFoundError(f"no user with e-mail {owner_email!r}")
        if not owner["email_verified"]:
            # Someone else may have claimed the address (through an invitation).
            raise ConflictError(
                f"the e-mail address of {owner_email!r} is not verified: confirm that the "
                "person controls it, then run `inferia admin verify-email`"
            )
        owner_id = str(owner["id"])
        role_id = await store.owner_role_id()
        assert role_id is not None  # created on first start
        try:
            async with self._changes.apply(context) as change:
                organization_id = await store.insert(slug, name or slug, owner_id, role_id)
                change.audit(
                    "organization.create",
                    target=organization_id,
                    organization_id=organization_id,
                    details={"slug": slug, "owner": owner_email.lower()},
                )
        except IntegrityViolation:
            raise ConflictError(f"an organisation with slug {slug!r} exists") from None
        return organization_id
