"""The policy-snapshot port: an organisation's limit policies, cached in every process.

``PolicySource`` is implemented in process by ``PolicyStore.load`` (one query) and
remotely by ``RemotePolicySource`` (``GET /internal/policies/{org}`` with the internal
service credential). ``PolicySnapshots`` sits in front of either: the request path
reads an in-memory, pre-indexed snapshot; a change announced on the state backend
drops the organisation's entry at once, and a TTL is the backstop.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

import msgspec

from inferia.filtration.internal_client import InternalClient
from inferia.filtration.limits import CompiledPolicies, LimitValues, OrgPolicies
from inferia.filtration.policy.schema import INTERNAL_POLICIES_PATH, POLICY_CHANGES_CHANNEL
from inferia.state import StateBackend, Subscription

_MAX_ENTRIES = 100_000


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
    """Compiled snapshots per organisation; concurrent misses share one load."""

    def __init__(
        self,
        source: PolicySource,
        state: StateBackend,
        key_defaults: LimitValues,
        ttl_s: float,
    ) -> None:
        self._source = source
        self._state = state
        self._key_defaults = key_defaults
        # Without a shared backend this process cannot hear about changes made by
        # another one (the CLI): keep entries for a second only.
        self._ttl_s = ttl_s if state.shared else min(ttl_s, 1.0)
        self._entries: dict[str, tuple[float, CompiledPolicies]] = {}
        self._loading: dict[str, asyncio.Future[CompiledPolicies]] = {}
        self._generation = 0
        self._subscription: Subscription | None = None

    async def start(self) -> None:
        self._subscription = await self._state.subscribe(POLICY_CHANGES_CHANNEL, self._on_change)

    async def close(self) -> None:
        if self._subscription is not None:
            await self._subscription.close()
            self._subscription = None

    def _on_change(self, message: bytes) -> None:
        self._generation += 1
        organization_id = message.decode()
        if organization_id == "*":
            self._entries.clear()
        else:
            self._entries.pop(organization_id, None)

    def log_bodies(self, organization_id: str) -> bool | None:
        """The organisation's body-logging setting if its snapshot is cached (no I/O)."""
        entry = self._entries.get(organization_id)
        return entry[1].policies.log_bodies if entry is not None else None

    async def get(self, organization_id: str) -> CompiledPolicies:
        entry = self._entries.get(organization_id)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        pending = self._loading.get(organization_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[CompiledPolicies] = asyncio.get_running_loop().create_future()
        self._loading[organization_id] = future
        try:
            generation = self._generation
            compiled = CompiledPolicies(
                await self._source.load(organization_id), self._key_defaults
            )
            if generation == self._generation:
                if len(self._entries) >= _MAX_ENTRIES:
                    self._entries.clear()
                self._entries[organization_id] = (time.monotonic() + self._ttl_s, compiled)
            future.set_result(compiled)
            return compiled
        except Exception as exc:
            future.set_exception(exc)
            # Retrieve it so a future nobody else awaited does not warn.
            future.exception()
            raise
        except BaseException:
            future.cancel()
            raise
        finally:
            del self._loading[organization_id]
