"""Every port the inference plane needs from the filtration plane, chosen together.

``FiltrationPlane.ports()`` gives the in-process implementations; ``remote_ports``
gives HTTP clients of the filtration plane's ``/internal/*`` for split mode. The app
factory picks one of the two, once, at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol

import aiohttp

from inferia.config import Settings
from inferia.contracts.access import CallerVerifier, RemoteCallerVerifier
from inferia.contracts.endpoints import LiveEndpointSource, RemoteLiveEndpointSource
from inferia.contracts.guardrails import GuardrailPolicySource, RemoteGuardrailSource
from inferia.contracts.internal_client import InternalClient
from inferia.contracts.knowledge import Embedder, RemoteEmbedder, RemoteRetriever, Retriever
from inferia.contracts.models import ModelDefinitionSource, RemoteModelSource
from inferia.contracts.policies import PolicySource, RemotePolicySource
from inferia.contracts.principal_cache import principal_cache_for
from inferia.contracts.principals import PrincipalResolver
from inferia.contracts.resolvers import CachedPrincipalResolver, RemotePrincipalResolver
from inferia.contracts.templates import RemoteTemplateSource, TemplateSource
from inferia.state import StateBackend

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FiltrationPorts:
    principals: PrincipalResolver
    models: ModelDefinitionSource
    policies: PolicySource
    guardrails: GuardrailPolicySource
    knowledge: Retriever
    templates: TemplateSource


class ProcessServices(Protocol):
    """What remote ports need of the process (``inferia.runtime.Runtime`` is one)."""

    settings: Settings
    state: StateBackend

    @property
    def http(self) -> aiohttp.ClientSession: ...

    def on_start(self, hook: Callable[[], Awaitable[None]]) -> None: ...

    def on_stop(self, hook: Callable[[], Awaitable[None]]) -> None: ...

    def add_ready_check(self, name: str, check: Callable[[], Awaitable[bool]]) -> None: ...


def _internal_client(
    process: ProcessServices, plane: Literal["filtration", "orchestration", "inference"]
) -> InternalClient:
    """A client of ``plane``'s ``/internal/*`` with the internal service credential."""
    settings = process.settings
    remote = settings.remote
    base_url = {
        "filtration": remote.filtration_url,
        "orchestration": remote.orchestration_url,
        "inference": remote.inference_url,
    }[plane]
    return InternalClient(
        lambda: process.http,
        base_url,
        settings.security.internal_token,
        settings.remote.timeout_s,
        plane,
    )


def _filtration_client(process: ProcessServices) -> InternalClient:
    """The filtration plane's client; this process is ready only while that plane answers."""
    client = _internal_client(process, "filtration")
    process.add_ready_check("filtration", client.reachable)
    return client


def remote_ports(process: ProcessServices) -> FiltrationPorts:
    """Clients of a filtration plane running in another process (split mode)."""
    client = _filtration_client(process)
    if process.settings.inference.allow_private_api_upstreams:
        # One setting, read where models are defined: the definitions carry it here.
        log.warning(
            "inference.allow_private_api_upstreams is ignored on this process: the "
            "filtration process at %s, which serves /management/models, decides it",
            process.settings.remote.filtration_url,
        )
    principals = CachedPrincipalResolver(
        RemotePrincipalResolver(client), process.state, principal_cache_for(process.state)
    )
    process.on_start(principals.start)
    process.on_stop(principals.close)
    return FiltrationPorts(
        principals=principals,
        models=RemoteModelSource(client),
        policies=RemotePolicySource(client),
        guardrails=RemoteGuardrailSource(client),
        knowledge=RemoteRetriever(client),
        templates=RemoteTemplateSource(client),
    )


def remote_caller_verifier(process: ProcessServices) -> CallerVerifier:
    """The filtration plane's caller verification, from another process (split mode)."""
    client = _filtration_client(process)
    return RemoteCallerVerifier(client)


def remote_live_endpoints(process: ProcessServices) -> LiveEndpointSource:
    """The orchestration plane's live endpoints, from another process (split mode)."""
    client = _internal_client(process, "orchestration")
    return RemoteLiveEndpointSource(client)


def remote_embedder(process: ProcessServices) -> Embedder:
    """The inference plane's embeddings, from another process (split mode)."""
    client = _internal_client(process, "inference")
    return RemoteEmbedder(client)
