"""Authenticate step: ``Authorization: Bearer <api key>`` -> Principal, via the port."""

from __future__ import annotations

from inferia.contracts import Principal, PrincipalResolver
from inferia.core.errors import AuthenticationError


class Authenticator:
    def __init__(self, principals: PrincipalResolver) -> None:
        self._principals = principals

    async def authenticate(self, authorization: str | None) -> Principal:
        if not authorization:
            raise AuthenticationError(
                "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'."
            )
        scheme, _, credential = authorization.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise AuthenticationError("Malformed Authorization header: expected 'Bearer <key>'.")
        principal = await self._principals.resolve(credential)
        if principal is None:
            raise AuthenticationError("Incorrect API key provided.")
        return principal
