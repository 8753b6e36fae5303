"""The guardrail policy-snapshot port: each organisation's policies, cached in every
inference process.

``GuardrailPolicySource`` is implemented in process by ``GuardrailPolicyStore.load``
(one query) and remotely by ``RemoteGuardrailSource`` (``GET /internal/guardrails/{org}``
with the internal service credential). ``GuardrailSnapshots`` sits in front of either:
the request path reads a compiled, in-memory snapshot; a change announced on the state
backend drops the organisation's entry at once, and a TTL is the backstop.

Precedence: the organisation's policy for the model, else its default policy, else the
platform default from ``[guardrails]`` in inferia.toml.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from inferia.config import GuardrailSettings
from inferia.contracts.internal_client import InternalClient
from inferia.contracts.snapshots import OrgSnapshots
from inferia.guardrails import (
    CompiledPolicy,
    GuardrailEngine,
    GuardrailPolicy,
    build_engine,
    platform_policy,
)
from inferia.state import StateBackend

# Pub/sub channel announcing guardrail policy changes; the payload is the organisation id.
GUARDRAIL_CHANGES_CHANNEL = "inferia:guardrails:changed"
INTERNAL_GUARDRAILS_PATH = "/internal/guardrails"


class OrgGuardrails(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation's own guardrail policies (what the port carries)."""

    default: GuardrailPolicy | None = None
    models: dict[str, GuardrailPolicy] = msgspec.field(default_factory=dict)


class GuardrailPolicySource(Protocol):
    @property
    def engine(self) -> GuardrailEngine | None:
        """The engine the source validates policies with, if it has one (the in-process
        store): the snapshots compile with it too, so a process builds each scanner once."""
        ...

    async def load(self, organization_id: str) -> OrgGuardrails: ...


class NoPolicies:
    """A source for processes whose policies all come from inferia.toml."""

    engine = None

    async def load(self, organization_id: str) -> OrgGuardrails:
        return OrgGuardrails()


class RemoteGuardrailSource:
    engine = None

    def __init__(self, client: InternalClient) -> None:
        self._client = client
        self._decoder = msgspec.json.Decoder(OrgGuardrails)

    async def load(self, organization_id: str) -> OrgGuardrails:
        path = f"{INTERNAL_GUARDRAILS_PATH}/{organization_id}"
        return await self._client.get(path, self._decoder, what="a guardrails request")


class _Snapshot:
    __slots__ = ("default", "models")

    def __init__(self, default: CompiledPolicy, models: dict[str, CompiledPolicy]) -> None:
        self.default = default
        self.models = models


class GuardrailSnapshots:
    """Compiled guardrail policies per organisation (see ``OrgSnapshots``)."""

    def __init__(
        self,
        source: GuardrailPolicySource,
        engine: GuardrailEngine,
        platform_default: GuardrailPolicy,
        state: StateBackend,
        ttl_s: float,
    ) -> None:
        self._source = source
        self._engine = engine
        self._platform_default = engine.compile(platform_default)
        # Policies that all come from inferia.toml never change: no cache, no events.
        self._static = isinstance(source, NoPolicies)
        self._snapshots = OrgSnapshots(self._load, state, GUARDRAIL_CHANGES_CHANNEL, ttl_s)

    @classmethod
    def from_settings(
        cls, source: GuardrailPolicySource, settings: GuardrailSettings, state: StateBackend
    ) -> GuardrailSnapshots:
        """The snapshots of a process: ``[guardrails]`` as the platform default, compiled
        with the source's engine when it has one, else with an engine of their own."""
        engine = source.engine or build_engine(settings)
        return cls(
            source,
            engine,
            platform_policy(settings, engine),
            state,
            settings.policy_cache_ttl_s,
        )

    @property
    def platform_default(self) -> CompiledPolicy:
        return self._platform_default

    async def start(self) -> None:
        if not self._static:
            await self._snapshots.start()

    async def close(self) -> None:
        await self._snapshots.close()
        await self._engine.close()

    async def policy_for(self, organization_id: str, model: str) -> CompiledPolicy:
        if self._static:
            return self._platform_default
        snapshot = await self._snapshots.get(organization_id)
        return snapshot.models.get(model) or snapshot.default

    async def _load(self, organization_id: str) -> _Snapshot:
        return self._compile(await self._source.load(organization_id))

    def _compile(self, policies: OrgGuardrails) -> _Snapshot:
        default = (
            self._engine.compile(policies.default)
            if policies.default is not None
            else self._platform_default
        )
        return _Snapshot(
            default, {model: self._engine.compile(p) for model, p in policies.models.items()}
        )
