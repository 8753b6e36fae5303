"""The model_deployments table: models defined through ``/management/models``."""

from __future__ import annotations

from piccolo.columns import UUID, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from inferia.filtration.identity.tables import Organization


class ModelDeployment(Table, tablename="model_deployments"):
    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, on_delete=OnDelete.cascade, index=True)
    # The model name clients send; unique per organisation.
    name = Varchar(length=200)
    routing_strategy = Varchar(length=40, null=True, default=None)
    # JSON array of endpoints; each API key sealed with SecretBox (never stored in clear).
    endpoints = Text(default="[]")
    # The prompt template requests for this model get unless they name one.
    template = Varchar(length=100, null=True, default=None)
    # JSON list of knowledge-base names searched for requests that name none.
    knowledge_bases = Text(default="[]")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
