"""ApiKeyStore: the api_keys queries, and key verification (the in-process
``PrincipalResolver`` the principal cache sits in front of).

Pepper rotation: keys are looked up by ``HMAC(pepper, key)``. After the pepper
changes, a key not found under the current pepper is looked up under each of
``security.previous_api_key_peppers``; when found, its stored digest is upgraded to
the current pepper, so old peppers can be dropped once every live key has been used
(``inferia keys pepper-status`` counts the live keys still under an old pepper).
"""

from __future__ import annotations

import hmac
import json
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from inferia.contracts.principals import Principal
from inferia.db.errors import wrap_errors
from inferia.filtration.api_keys.format import (
    PREFIX,
    ApiKeyFormatError,
    IssuedKey,
    key_digest,
    parse_api_key,
    pepper_id,
)
from inferia.filtration.api_keys.schemas import ApiKeyRecord
from inferia.filtration.api_keys.tables import ApiKey
from inferia.filtration.identity.tables import User
from inferia.filtration.members.tables import Membership

log = logging.getLogger(__name__)


class ApiKeyStore:
    def __init__(self, pepper: str, *, previous_peppers: Sequence[str] = ()) -> None:
        self._pepper = pepper.encode()
        self._previous_peppers = tuple(p.encode() for p in previous_peppers if p)

    async def insert(
        self,
        issued: IssuedKey,
        organization_id: str,
        name: str,
        *,
        user_id: str | None,
        allowed_models: list[str],
        expires_at: datetime | None,
    ) -> ApiKeyRecord:
        """Store a new key as its digest under the current pepper; in the caller's
        transaction."""
        row = ApiKey(
            id=uuid.uuid4(),
            organization=organization_id,
            user=user_id,
            name=name,
            public_id=issued.public_id,
            digest=key_digest(self._pepper, issued.plaintext),
            pepper_id=pepper_id(self._pepper),
            allowed_models=json.dumps(allowed_models),
            expires_at=expires_at,
        )
        await row.save()
        return _record(row.to_dict())

    async def list(
        self, organization_id: str, *, include_revoked: bool = False
    ) -> list[ApiKeyRecord]:
        query = ApiKey.select().where(ApiKey.organization == organization_id)
        if not include_revoked:
            query = query.where(ApiKey.revoked_at.is_null())
        async with wrap_errors():
            rows = await query.order_by(ApiKey.created_at)
        return [_record(row) for row in rows]

    async def find(self, organization_id: str | None, id_or_prefix: str) -> ApiKeyRecord | None:
        """A key by id or by public id (the part after ``sk-inf-``); org-scoped if given."""
        public_id = id_or_prefix.removeprefix(PREFIX).split("-", 1)[0]
        condition = ApiKey.public_id == public_id
        if _is_uuid(id_or_prefix):
            condition = ApiKey.id == id_or_prefix
        query = ApiKey.select().where(condition)
        if organization_id is not None:
            query = query.where(ApiKey.organization == organization_id)
        async with wrap_errors():
            row = await query.first()
        return _record(row) if row is not None else None

    async def update(self, key_id: str, values: dict[str, Any]) -> None:
        """Set the named columns (``allowed_models`` as a list); in the caller's transaction."""
        changeable = {
            "name": ApiKey.name,
            "allowed_models": ApiKey.allowed_models,
            "expires_at": ApiKey.expires_at,
        }
        columns: dict[Any, Any] = {ApiKey.updated_at: datetime.now(UTC)}
        for name, value in values.items():
            columns[changeable[name]] = json.dumps(value) if name == "allowed_models" else value
        await ApiKey.update(columns).where(ApiKey.id == key_id)

    async def set_revoked(self, key_id: str) -> None:
        now = datetime.now(UTC)
        await ApiKey.update({ApiKey.revoked_at: now, ApiKey.updated_at: now}).where(
            ApiKey.id == key_id
        )

    async def resolve(self, credential: str) -> Principal | None:
        """The in-process ``PrincipalResolver``: one indexed lookup by digest."""
        try:
            parse_api_key(credential)
        except ApiKeyFormatError:
            return None
        digest = key_digest(self._pepper, credential)
        row = await self._lookup(digest)
        if row is None and self._previous_peppers:
            row = await self._lookup_with_previous_peppers(credential, digest)
        if row is None:
            return None
        if row["revoked_at"] is not None:
            return None
        expires_at: datetime | None = row["expires_at"]
        if expires_at is not None and _aware(expires_at) <= datetime.now(UTC):
            return None
        organization_id = str(row["organization"])
        if row["user"] is not None and not await _owner_may_act(str(row["user"]), organization_id):
            return None
        return Principal(
            organization_id=organization_id,
            key_id=str(row["id"]),
            user_id=str(row["user"]) if row["user"] else None,
            name=row["name"],
            allowed_models=tuple(json.loads(row["allowed_models"])),
            expires_at=_aware(expires_at).timestamp() if expires_at else None,
        )

    async def _lookup(self, digest: str) -> dict[str, Any] | None:
        async with wrap_errors():
            row: dict[str, Any] | None = (
                await ApiKey.select().where(ApiKey.digest == digest).first()
            )
        if row is None or not hmac.compare_digest(row["digest"], digest):
            return None
        return row

    async def _lookup_with_previous_peppers(
        self, credential: str, current_digest: str
    ) -> dict[str, Any] | None:
        for pepper in self._previous_peppers:
            row = await self._lookup(key_digest(pepper, credential))
            if row is None:
                continue
            # Upgrade to the current pepper so the old one can be retired.
            async with wrap_errors():
                await ApiKey.update(
                    {ApiKey.digest: current_digest, ApiKey.pepper_id: pepper_id(self._pepper)}
                ).where(ApiKey.id == row["id"])
            log.info("API key %s re-digested under the current pepper", row["public_id"])
            return row
        return None

    async def pepper_status(self) -> dict[str, int]:
        """Live (unrevoked) keys per pepper: "current", "previous" or "unknown"."""
        current = pepper_id(self._pepper)
        previous = {pepper_id(p) for p in self._previous_peppers}
        async with wrap_errors():
            rows = await ApiKey.select(ApiKey.pepper_id).where(ApiKey.revoked_at.is_null())
        counts = {"current": 0, "previous": 0, "unknown": 0}
        for row in rows:
            if row["pepper_id"] == current:
                counts["current"] += 1
            elif row["pepper_id"] in previous:
                counts["previous"] += 1
            else:
                counts["unknown"] += 1
        return counts


async def live_key_ids(user_id: str, organization_id: str | None = None) -> list[str]:
    """Ids of the unrevoked keys acting for ``user_id`` (in one organisation, or all)."""
    condition = (ApiKey.user == user_id) & ApiKey.revoked_at.is_null()
    if organization_id is not None:
        condition = condition & (ApiKey.organization == organization_id)
    async with wrap_errors():
        rows = await ApiKey.select(ApiKey.id).where(condition)
    return [str(row["id"]) for row in rows]


async def revoke_owned_by(user_id: str, organization_id: str) -> None:
    """Revoke the user's live keys in the organisation; in the caller's transaction."""
    now = datetime.now(UTC)
    await ApiKey.update({ApiKey.revoked_at: now, ApiKey.updated_at: now}).where(
        (ApiKey.user == user_id)
        & (ApiKey.organization == organization_id)
        & ApiKey.revoked_at.is_null()
    )


async def _owner_may_act(user_id: str, organization_id: str) -> bool:
    """A key acting for a person works only while that person may act in its
    organisation: an active account, and an active membership (or operator status)."""
    async with wrap_errors():
        user = (
            await User.select(User.is_active, User.is_superuser).where(User.id == user_id).first()
        )
        if user is None or not user["is_active"]:
            return False
        if user["is_superuser"]:
            return True
        return bool(
            await Membership.exists().where(
                (Membership.user == user_id)
                & (Membership.organization == organization_id)
                & (Membership.is_active == True)  # noqa: E712
            )
        )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _record(row: dict[str, Any]) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=str(row["id"]),
        organization_id=str(row["organization"]),
        user_id=str(row["user"]) if row["user"] else None,
        name=row["name"],
        prefix=f"{PREFIX}{row['public_id']}",
        allowed_models=json.loads(row["allowed_models"]),
        expires_at=_aware(row["expires_at"]) if row["expires_at"] else None,
        revoked_at=_aware(row["revoked_at"]) if row["revoked_at"] else None,
        created_at=_aware(row["created_at"]),
    )
