"""What the planes share: the port Protocols, the Structs they carry, channel and stream
names, the remote clients and the port-side caches.

Plane-neutral: msgspec, the state backend and the pure libraries (``inferia.limits``,
``inferia.guardrails``) only; no Litestar, no piccolo (import-linter holds it).
"""

from inferia.contracts.guardrails import (
    GUARDRAIL_CHANGES_CHANNEL,
    GuardrailPolicySource,
    GuardrailSnapshots,
    NoPolicies,
    OrgGuardrails,
    RemoteGuardrailSource,
)
from inferia.contracts.models import (
    MODEL_CHANGES_CHANNEL,
    ModelDefinition,
    ModelDefinitionSource,
    ModelEndpointDefinition,
    RemoteModelSource,
    StrategyName,
)
from inferia.contracts.policies import (
    POLICY_CHANGES_CHANNEL,
    PolicySnapshots,
    PolicySource,
    RemotePolicySource,
)
from inferia.contracts.port_set import FiltrationPorts, remote_ports
from inferia.contracts.principal_cache import PrincipalCache, principal_cache_for
from inferia.contracts.principals import API_KEY_CHANGES_CHANNEL, Principal, PrincipalResolver
from inferia.contracts.resolvers import CachedPrincipalResolver, RemotePrincipalResolver
from inferia.contracts.templates import (
    TEMPLATE_CHANGES_CHANNEL,
    RemoteTemplateSource,
    TemplateSnapshots,
    TemplateSource,
)
from inferia.contracts.usage import USAGE_STREAM, UsageEvent, body_context

__all__ = [
    "API_KEY_CHANGES_CHANNEL",
    "GUARDRAIL_CHANGES_CHANNEL",
    "MODEL_CHANGES_CHANNEL",
    "POLICY_CHANGES_CHANNEL",
    "TEMPLATE_CHANGES_CHANNEL",
    "USAGE_STREAM",
    "CachedPrincipalResolver",
    "FiltrationPorts",
    "GuardrailPolicySource",
    "GuardrailSnapshots",
    "ModelDefinition",
    "ModelDefinitionSource",
    "ModelEndpointDefinition",
    "NoPolicies",
    "OrgGuardrails",
    "PolicySnapshots",
    "PolicySource",
    "Principal",
    "PrincipalCache",
    "PrincipalResolver",
    "RemoteGuardrailSource",
    "RemoteModelSource",
    "RemotePolicySource",
    "RemotePrincipalResolver",
    "RemoteTemplateSource",
    "StrategyName",
    "TemplateSnapshots",
    "TemplateSource",
    "UsageEvent",
    "body_context",
    "principal_cache_for",
    "remote_ports",
]
