"""The filtration (policy) plane: identity, keys, policies, audit. Owns its tables."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from inferia.filtration.internal import internal_controller
from inferia.filtration.keys import ApiKeyStore
from inferia.filtration.principal_cache import principal_cache_for
from inferia.filtration.resolvers import CachedPrincipalResolver
from inferia.runtime import Runtime


class FiltrationPlane:
    def __init__(self, runtime: Runtime) -> None:
        security = runtime.settings.security
        self.api_keys = ApiKeyStore(runtime.state, security.api_key_pepper)
        # The in-process PrincipalResolver port: the key store behind the shared cache.
        self.principals = CachedPrincipalResolver(
            self.api_keys, runtime.state, principal_cache_for(runtime.state)
        )
        self._internal_token = security.internal_token
        runtime.on_start(self.principals.start)
        runtime.on_stop(self.principals.close)

    def routes(self) -> list[ControllerRouterHandler]:
        return [internal_controller(self.principals, self._internal_token)]
