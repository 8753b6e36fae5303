"""Ports the filtration plane offers to the other planes.

A port is a small Protocol with an in-process implementation (a direct call into the
filtration services) and a remote one (an HTTP client of ``/internal/*``). The app
factory picks one at start-up from the planes running in the process.
"""

from __future__ import annotations

from typing import Protocol

import msgspec


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who is calling: the owner of an API key, as the inference plane sees it."""

    organization_id: str
    key_id: str
    user_id: str | None = None
    name: str = ""
    # Model names this key may call; empty means every model of the organisation.
    allowed_models: tuple[str, ...] = ()
    expires_at: float | None = None

    def may_use(self, model: str) -> bool:
        return not self.allowed_models or model in self.allowed_models


class PrincipalResolver(Protocol):
    """Resolves a bearer credential (an API key) to its principal, or None if invalid."""

    async def resolve(self, credential: str) -> Principal | None: ...


class ResolveRequest(msgspec.Struct, frozen=True):
    credential: str


# Pub/sub channel on which key changes (revoke, update, expiry) are announced; the
# payload is the key id. Every process holding a principal cache listens to it.
API_KEY_CHANGES_CHANNEL = "inferia:api-keys:changed"
INTERNAL_TOKEN_HEADER = "x-inferia-internal-token"
RESOLVE_PATH = "/internal/principals/resolve"
