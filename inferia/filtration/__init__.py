"""The filtration (policy) plane.

Other planes import only what is exported here: the ports, their schemas and
their implementations.
"""

from inferia.filtration.plane import FiltrationPlane
from inferia.filtration.ports import Principal, PrincipalResolver
from inferia.filtration.principal_cache import PrincipalCache, principal_cache_for
from inferia.filtration.resolvers import CachedPrincipalResolver, RemotePrincipalResolver

__all__ = [
    "CachedPrincipalResolver",
    "FiltrationPlane",
    "Principal",
    "PrincipalCache",
    "PrincipalResolver",
    "RemotePrincipalResolver",
    "principal_cache_for",
]
