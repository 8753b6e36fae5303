"""The filtration (policy) plane.

Other planes import only what is exported here: the ports, their schemas and
their implementations.
"""

from inferia.filtration.access import ACCESS_STATE_KEY, Caller, provide_caller, requires
from inferia.filtration.audit import AuditTrail
from inferia.filtration.guardrails.port import (
    GUARDRAIL_CHANGES_CHANNEL,
    GuardrailPolicySource,
    GuardrailSnapshots,
    OrgGuardrails,
    RemoteGuardrailSource,
)
from inferia.filtration.limits import (
    Charge,
    Decision,
    LimitEvaluator,
    LimitState,
    LimitValues,
    ModelPrice,
    OrgPolicies,
    price_for,
)
from inferia.filtration.models.internal import RemoteModelSource
from inferia.filtration.models.port import (
    MODEL_CHANGES_CHANNEL,
    ModelDefinition,
    ModelDefinitionSource,
    ModelEndpointDefinition,
)
from inferia.filtration.plane import FiltrationPlane
from inferia.filtration.policy import PolicySnapshots, PolicySource, RemotePolicySource
from inferia.filtration.port_set import FiltrationPorts, remote_ports
from inferia.filtration.ports import Principal, PrincipalResolver
from inferia.filtration.principal_cache import PrincipalCache, principal_cache_for
from inferia.filtration.resolvers import CachedPrincipalResolver, RemotePrincipalResolver
from inferia.filtration.usage.schema import USAGE_STREAM, UsageEvent, body_context

__all__ = [
    "ACCESS_STATE_KEY",
    "GUARDRAIL_CHANGES_CHANNEL",
    "MODEL_CHANGES_CHANNEL",
    "USAGE_STREAM",
    "AuditTrail",
    "CachedPrincipalResolver",
    "Caller",
    "Charge",
    "Decision",
    "FiltrationPlane",
    "FiltrationPorts",
    "GuardrailPolicySource",
    "GuardrailSnapshots",
    "LimitEvaluator",
    "LimitState",
    "LimitValues",
    "ModelDefinition",
    "ModelDefinitionSource",
    "ModelEndpointDefinition",
    "ModelPrice",
    "OrgGuardrails",
    "OrgPolicies",
    "PolicySnapshots",
    "PolicySource",
    "Principal",
    "PrincipalCache",
    "PrincipalResolver",
    "RemoteGuardrailSource",
    "RemoteModelSource",
    "RemotePolicySource",
    "RemotePrincipalResolver",
    "UsageEvent",
    "body_context",
    "price_for",
    "principal_cache_for",
    "provide_caller",
    "remote_ports",
    "requires",
]
