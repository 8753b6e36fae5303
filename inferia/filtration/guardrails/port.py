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

import asyncio
import time
from typing import Protocol

import msgspec

from inferia.filtration.guardrails.engine import CompiledPolicy, GuardrailEngine
from inferia.filtration.guardrails.policy import GuardrailPolicy
from inferia.filtration.internal_client import InternalClient
from inferia.state import StateBackend, Subscription

# Pub/sub channel announcing guardrail policy changes; the payload is the organisation id.
GUARDRAIL_CHANGES_CHANNEL = "inferia:guardrails:changed"
INTERNAL_GUARDRAILS_PATH = "/internal/guardrails"
_MAX_ENTRIES = 100_000


class OrgGuardrails(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation's own guardrail policies (what the port carries)."""

    default: GuardrailPolicy | None = None
    models: dict[str, GuardrailPolicy] = msgspec.field(default_factory=dict)


class GuardrailPolicySource(Protocol):
    async def load(self, organization_id: str) -> OrgGuardrails: ...


class NoPolicies:
    """A source for processes whose policies all come from inferia.toml."""

    async def load(self, organization_id: str) -> OrgGuardrails:
        return OrgGuardrails()


class RemoteGuardrailSource:
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
    """Compiled policies per organisation; concurrent misses share one load."""

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
        self._state = state
        # Without a shared backend this process cannot hear about changes made by another
        # one: keep entries for a second only.
        self._ttl_s = ttl_s if state.shared else min(ttl_s, 1.0)
        self._static = isinstance(source, NoPolicies)
        self._entries: dict[str, tuple[float, _Snapshot]] = {}
        self._loading: dict[str, asyncio.Future[_Snapshot]] = {}
        self._generation = 0
        self._subscription: Subscription | None = None

    @property
    def platform_default(self) -> CompiledPolicy:
        return self._platform_default

    async def start(self) -> None:
        if not self._static:
            self._subscription = await self._state.subscribe(
                GUARDRAIL_CHANGES_CHANNEL, self._on_change
            )

    async def close(self) -> None:
        if self._subscription is not None:
            await self._subscription.close()
            self._subscription = None
        await self._engine.close()

    def _on_change(self, message: bytes) -> None:
        self._generation += 1
        organization_id = message.decode()
        if organization_id == "*":
            self._entries.clear()
        else:
            self._entries.pop(organization_id, None)

    async def policy_for(self, organization_id: str, model: str) -> CompiledPolicy:
        if self._static:
            return self._platform_default
        entry = self._entries.get(organization_id)
        if entry is not None and entry[0] > time.monotonic():
            snapshot = entry[1]
        else:
            snapshot = await self._load(organization_id)
        return snapshot.models.get(model) or snapshot.default

    async def _load(self, organization_id: str) -> _Snapshot:
        pending = self._loading.get(organization_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[_Snapshot] = asyncio.get_running_loop().create_future()
        self._loading[organization_id] = future
        try:
            generation = self._generation
            snapshot = self._compile(await self._source.load(organization_id))
            if generation == self._generation:
                if len(self._entries) >= _MAX_ENTRIES:
                    self._entries.clear()
                self._entries[organization_id] = (time.monotonic() + self._ttl_s, snapshot)
            future.set_result(snapshot)
            return snapshot
        except Exception as exc:
            future.set_exception(exc)
            future.exception()
            raise
        except BaseException:
            future.cancel()
            raise
        finally:
            del self._loading[organization_id]

    def _compile(self, policies: OrgGuardrails) -> _Snapshot:
        default = (
            self._engine.compile(policies.default)
            if policies.default is not None
            else self._platform_default
        )
        return _Snapshot(
            default, {model: self._engine.compile(p) for model, p in policies.models.items()}
        )
