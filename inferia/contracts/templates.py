"""The prompt-template port: each organisation's templates, cached in every inference
process.

``TemplateSource`` is implemented in process by ``TemplateStore.load`` (one query per
organisation) and remotely by ``RemoteTemplateSource`` (``GET /internal/templates/{org}``
with the internal service credential). ``TemplateSnapshots`` sits in front of either
(``OrgSnapshots``: a change announced on ``TEMPLATE_CHANGES_CHANNEL`` drops the
organisation's entry, a TTL is the backstop). A version is compiled the first time a
request uses it, then kept with the snapshot.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from inferia.config import TemplateSettings
from inferia.contracts.internal_client import InternalClient
from inferia.contracts.snapshots import OrgSnapshots
from inferia.core.errors import NotFoundError
from inferia.prompts import CompiledTemplate, TemplateBody, compile_template
from inferia.state import StateBackend

# Pub/sub channel announcing template changes; the payload is the organisation id.
TEMPLATE_CHANGES_CHANNEL = "inferia:templates:changed"
INTERNAL_TEMPLATES_PATH = "/internal/templates"


class TemplateDefinition(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    active_version: int
    versions: dict[int, TemplateBody]


class OrgTemplates(msgspec.Struct, frozen=True, kw_only=True):
    templates: dict[str, TemplateDefinition] = msgspec.field(default_factory=dict)


class TemplateSource(Protocol):
    async def load(self, organization_id: str) -> OrgTemplates: ...


class RemoteTemplateSource:
    def __init__(self, client: InternalClient) -> None:
        self._client = client
        self._decoder = msgspec.json.Decoder(OrgTemplates)

    async def load(self, organization_id: str) -> OrgTemplates:
        path = f"{INTERNAL_TEMPLATES_PATH}/{organization_id}"
        return await self._client.get(path, self._decoder, what="a templates request")


class _Snapshot:
    __slots__ = ("compiled", "templates")

    def __init__(self, templates: OrgTemplates) -> None:
        self.templates = templates.templates
        self.compiled: dict[tuple[str, int], CompiledTemplate] = {}


class TemplateSnapshots:
    """Compiled templates per organisation, for the request path."""

    def __init__(
        self, source: TemplateSource, state: StateBackend, settings: TemplateSettings
    ) -> None:
        self._source = source
        self._limits = settings
        self._snapshots = OrgSnapshots(
            self._load, state, TEMPLATE_CHANGES_CHANNEL, settings.cache_ttl_s
        )

    async def start(self) -> None:
        await self._snapshots.start()

    async def close(self) -> None:
        await self._snapshots.close()

    async def template_for(
        self, organization_id: str, name: str, version: int | None, where: str
    ) -> CompiledTemplate:
        """The named template of the organisation (its active version unless ``version``);
        a 404 naming ``{where}.template`` or ``{where}.version`` when it has none."""
        snapshot = await self._snapshots.get(organization_id)
        definition = snapshot.templates.get(name)
        if definition is None:
            raise NotFoundError(f"The template '{name}' does not exist.", param=f"{where}.template")
        number = definition.active_version if version is None else version
        key = (name, number)
        compiled = snapshot.compiled.get(key)
        if compiled is None:
            body = definition.versions.get(number)
            if body is None:
                raise NotFoundError(
                    f"The template '{name}' has no version {number}.", param=f"{where}.version"
                )
            compiled = compile_template(body, self._limits)
            snapshot.compiled[key] = compiled
        return compiled

    async def _load(self, organization_id: str) -> _Snapshot:
        return _Snapshot(await self._source.load(organization_id))
