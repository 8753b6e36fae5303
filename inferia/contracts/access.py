"""The caller-verification port: who sends a user access token, and what may they do.

The filtration plane owns identity (users, sessions, roles). Another plane that serves
management routes with the same tokens and permissions (the orchestration plane's
``/deployment/*``) asks through this port instead of importing the filtration plane.
In one process the filtration plane's ``AccessControl`` is the implementation (its
``authenticate`` matches structurally); in split mode ``RemoteCallerVerifier`` posts
the ``Authorization`` header to the filtration plane's ``/internal/callers/verify``.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from inferia.contracts.internal_client import InternalClient
from inferia.core.errors import AuthenticationError, PermissionDeniedError


class VerifiedCaller(Protocol):
    """What a plane needs to know of an authenticated user."""

    @property
    def user_id(self) -> str: ...

    @property
    def organization_id(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def permissions(self) -> frozenset[str]: ...


class CallerVerifier(Protocol):
    """``Authorization`` header -> the caller; raises ``AuthenticationError`` (401) when
    the token is missing, invalid or its session ended, ``PermissionDeniedError`` (403)
    when the membership is disabled."""

    async def authenticate(self, authorization: str | None) -> VerifiedCaller: ...


class CallerRecord(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """``VerifiedCaller`` on the wire (split mode)."""

    user_id: str
    organization_id: str
    role: str
    permissions: frozenset[str]


class VerifyRequest(msgspec.Struct, frozen=True):
    authorization: str


class VerifyRefusal(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    status: int
    message: str


VERIFY_PATH = "/internal/callers/verify"


class RemoteCallerVerifier:
    """Asks the filtration plane in another process; a refusal keeps its status."""

    def __init__(self, client: InternalClient) -> None:
        self._client = client
        self._decoder = msgspec.json.Decoder(CallerRecord | VerifyRefusal)

    async def authenticate(self, authorization: str | None) -> VerifiedCaller:
        if not authorization:
            raise AuthenticationError("missing access token: send 'Authorization: Bearer <token>'")
        body = msgspec.json.encode(VerifyRequest(authorization))
        reply = await self._client.call(
            "POST", VERIFY_PATH, self._decoder, body=body, what="a caller verification"
        )
        if isinstance(reply, CallerRecord):
            return reply
        message = reply.message if reply is not None else "invalid or expired access token"
        if reply is not None and reply.status == 403:
            raise PermissionDeniedError(message)
        raise AuthenticationError(message)
