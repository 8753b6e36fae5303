"""The prompt_templates and prompt_template_versions tables."""

from __future__ import annotations

from piccolo.columns import UUID, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from inferia.filtration.identity.tables import Organization


class PromptTemplate(Table, tablename="prompt_templates"):
    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, on_delete=OnDelete.cascade, index=True)
    # The name requests use; unique per organisation (a unique index, in the migrations).
    name = Varchar(length=100)
    active_version = Integer(default=1)
    latest_version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class PromptTemplateVersion(Table, tablename="prompt_template_versions"):
    """One immutable version; (template, version) is unique (an index, in the migrations)."""

    id = UUID(primary_key=True)
    template = ForeignKey(PromptTemplate, null=False, on_delete=OnDelete.cascade, index=True)
    version = Integer(default=1)
    # JSON of inferia.prompts.TemplateBody.
    body = Text(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
