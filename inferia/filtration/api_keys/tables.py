"""The api_keys table."""

from __future__ import annotations

from piccolo.columns import UUID, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from inferia.filtration.identity.tables import Organization, User


class ApiKey(Table, tablename="api_keys"):
    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, on_delete=OnDelete.cascade)
    user = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    name = Varchar(length=200)
    public_id = Varchar(length=16, unique=True, index=True)
    # HMAC-SHA256(pepper, key) in hex: the only form in which the key is stored.
    digest = Varchar(length=64, unique=True, index=True)
    # Which pepper made ``digest`` (api_keys/format.py, pepper_id): tracks a pepper rotation.
    pepper_id = Varchar(length=16, default="")
    # JSON list of model names the key may call; [] means every model.
    allowed_models = Text(default="[]")
    expires_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
