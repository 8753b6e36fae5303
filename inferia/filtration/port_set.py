"""Every port the inference plane needs from the filtration plane, chosen together.

``FiltrationPlane.ports()`` gives the in-process implementations; ``remote_ports``
gives HTTP clients of the filtration plane's ``/internal/*`` for split mode. The app
factory picks one of the two, once, at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass

from inferia.filtration.guardrails.port import GuardrailPolicySource, RemoteGuardrailSource
from inferia.filtration.internal_client import InternalClient
from inferia.filtration.models.internal import RemoteModelSource
from inferia.filtration.models.port import ModelDefinitionSource
from inferia.filtration.policy import PolicySource, RemotePolicySource
from inferia.filtration.ports import PrincipalResolver
from inferia.filtration.principal_cache import principal_cache_for
from inferia.filtration.resolvers import CachedPrincipalResolver, RemotePrincipalResolver
from inferia.runtime import Runtime


@dataclass(frozen=True, slots=True)
class FiltrationPorts:
    principals: PrincipalResolver
    models: ModelDefinitionSource
    policies: PolicySource
    guardrails: GuardrailPolicySource


def remote_ports(runtime: Runtime) -> FiltrationPorts:
    """Clients of a filtration plane running in another process (split mode)."""
    settings = runtime.settings
    client = InternalClient(
        lambda: runtime.http,
        settings.remote.filtration_url,
        settings.security.internal_token,
        settings.remote.timeout_s,
    )
    principals = CachedPrincipalResolver(
        RemotePrincipalResolver(client), runtime.state, principal_cache_for(runtime.state)
    )
    runtime.on_start(principals.start)
    runtime.on_stop(principals.close)
    return FiltrationPorts(
        principals=principals,
        models=RemoteModelSource(client),
        policies=RemotePolicySource(client),
        guardrails=RemoteGuardrailSource(client),
    )
