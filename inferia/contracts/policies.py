"""The policy-snapshot port: an organisation's limit policies, cached in every process.

``PolicySource`` is implemented in process by ``PolicyStore.load`` (one query) and
remotely by ``RemotePolicySource`` (``GET /internal/policies/{org}`` with the internal
service credential). ``PolicySnapshots`` sits in front of either: the request path
reads an in-memory, pre-indexed snapshot; a change announced on the state backend
drops the organisation's entry at once, and a TTL is the backstop.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from inferia.contracts.internal_client import InternalClient
from inferia.contracts.snapshots import OrgSnapshots
from inferia.limits import CompiledPolicies, LimitValues, OrgPolicies
from inferia.state import StateBackend

# Pub/sub channel on which policy changes are announced; the payload is the organisation id.
POLICY_CHANGES_CHANNEL = "inferia:policies:changed"
# GET /internal/policies/{organization_id} -> OrgPolicies (split mode).
INTERNAL_POLICIES_PATH = "/internal/policies"


class PolicySource(Protocol):
    async def load(self, organization_id: str) -> OrgPolicies: ...


class RemotePolicySource:
    def __init__(self, client: InternalClient) -> None:
        self._client = client
        self._decoder = msgspec.json.Decoder(OrgPolicies)

    async def load(self, organization_id: str) -> OrgPolicies:
        path = f"{INTERNAL_POLICIES_PATH}/{organization_id}"
        return await self._client.get(path, self._decoder, what="a policy request")


class PolicySnapshots:
    """Compiled limit policies per organisation (see ``OrgSnapshots``)."""

    def __init__(
        self,
        source: PolicySource,
        state: StateBackend,
        key_defaults: LimitValues,
        ttl_s: float,
    ) -> None:
        self._source = source
        self._key_defaults = key_defaults
        self._snapshots = OrgSnapshots(self._compile, state, POLICY_CHANGES_CHANNEL, ttl_s)

    async def _compile(self, organization_id: str) -> CompiledPolicies:
        return CompiledPolicies(await self._source.load(organization_id), self._key_defaults)

    async def start(self) -> None:
        await self._snapshots.start()

    async def close(self) -> None:
        await self._snapshots.close()

    def log_bodies(self, organization_id: str) -> bool | None:
        """The organisation's body-logging setting if its snapshot is cached (no I/O)."""
        compiled = self._snapshots.cached(organization_id)
        return compiled.policies.log_bodies if compiled is not None else None

    async def get(self, organization_id: str) -> CompiledPolicies:
        return await self._snapshots.get(organization_id)
