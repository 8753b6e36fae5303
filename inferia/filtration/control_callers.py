"""Who may call the control plane (``/deployment/*``, ``/inventory/*``, its gRPC services):
a user access token, or an API key (``sk-inf-...``) acting with its owner's role.

The ``CallerVerifier`` the orchestration plane is given, in process and behind
``/internal/callers/verify``. ``/management`` keeps taking access tokens only: a key is
for automation (CI deploying a model), and the role it borrows is read on every call, so
demoting or disabling its owner takes effect at once.
"""

from __future__ import annotations

from inferia.contracts.principals import PrincipalResolver
from inferia.core.errors import AuthenticationError
from inferia.filtration.access import AccessControl, Caller

API_KEY_PREFIX = "sk-inf-"


class ControlPlaneCallers:
    def __init__(self, access: AccessControl, principals: PrincipalResolver) -> None:
        self._access = access
        self._principals = principals

    async def authenticate(self, authorization: str | None) -> Caller:
        scheme, _, credential = (authorization or "").partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential.startswith(API_KEY_PREFIX):
            return await self._access.authenticate(authorization)
        principal = await self._principals.resolve(credential)
        if principal is None:
            raise AuthenticationError("invalid, expired or revoked API key")
        if principal.user_id is None:  # an organisation's service key: no role to borrow
            raise AuthenticationError(
                "this API key acts for no user: the control plane needs a user's key"
            )
        return await self._access.caller_for_key_owner(principal.user_id, principal.organization_id)
