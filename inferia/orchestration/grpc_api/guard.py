"""Every gRPC call but the standard health check goes through here once: the caller is
authenticated from call metadata, and the plane's errors become gRPC statuses.

Services are written as plain betterproto2 service bases; ``GuardedService`` wraps
their handler table (``__mapping__``), so no method can forget a check. The verified
caller reaches the method through a context variable: grpclib runs the wrapper and the
method in the same task, and generated bases pass only the message.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import Any, Protocol

import grpclib
import msgspec
from grpclib.const import Handler, Status
from grpclib.exceptions import StreamTerminatedError
from grpclib.server import Stream

from inferia.contracts.access import CallerVerifier, VerifiedCaller
from inferia.core.errors import InferiaError
from inferia.orchestration.changes import ActionContext

log = logging.getLogger(__name__)

# HTTP status of a plane error -> the gRPC status that means the same.
_STATUS_BY_HTTP = {
    400: Status.INVALID_ARGUMENT,
    401: Status.UNAUTHENTICATED,
    403: Status.PERMISSION_DENIED,
    404: Status.NOT_FOUND,
    409: Status.FAILED_PRECONDITION,
    413: Status.INVALID_ARGUMENT,
    422: Status.INVALID_ARGUMENT,
    429: Status.RESOURCE_EXHAUSTED,
    503: Status.UNAVAILABLE,
}
_CALLER: ContextVar[VerifiedCaller | None] = ContextVar("grpc_caller", default=None)
_PEER: ContextVar[str | None] = ContextVar("grpc_peer", default=None)
_AUTHORIZATION: ContextVar[str | None] = ContextVar("grpc_authorization", default=None)


class Servable(Protocol):
    def __mapping__(self) -> Mapping[str, Handler]: ...


class GrpcAccess:
    """The permission a method needs, and who calls (inside a guarded method)."""

    @staticmethod
    def caller(permission: str) -> VerifiedCaller:
        caller = _CALLER.get()
        if caller is None:  # a method of a service served without a guard
            raise grpclib.GRPCError(Status.UNAUTHENTICATED, "this call needs credentials")
        if permission not in caller.permissions:
            raise grpclib.GRPCError(
                Status.PERMISSION_DENIED,
                f"your role '{caller.role}' lacks the permission '{permission}'",
            )
        return caller

    @staticmethod
    def authorization() -> str | None:
        """The call's ``authorization`` metadata (for methods that check it themselves)."""
        return _AUTHORIZATION.get()

    @classmethod
    def context(cls, permission: str) -> ActionContext:
        caller = cls.caller(permission)
        return ActionContext(
            organization_id=caller.organization_id,
            actor_id=caller.user_id,
            client_address=_PEER.get(),
        )


def authorization(stream: Stream[Any, Any]) -> str | None:
    value = stream.metadata.get("authorization") if stream.metadata else None
    return value if isinstance(value, str) else None


def status_of(exc: Exception) -> Exception:
    if isinstance(exc, (grpclib.GRPCError, StreamTerminatedError)):
        return exc
    if isinstance(exc, InferiaError):
        return grpclib.GRPCError(_STATUS_BY_HTTP.get(exc.status_code, Status.INTERNAL), exc.message)
    if isinstance(exc, msgspec.ValidationError):
        return grpclib.GRPCError(Status.INVALID_ARGUMENT, str(exc))
    log.exception("gRPC call failed", exc_info=exc)
    return grpclib.GRPCError(Status.INTERNAL, "internal error")


class GuardedService:
    """``service`` with every method behind the verifier (``user_auth``) or left to the
    method itself (``self_auth``: the node heartbeat checks its own token)."""

    def __init__(
        self, service: Servable, verifier: CallerVerifier, *, self_auth: bool = False
    ) -> None:
        self._service = service
        self._verifier = verifier
        self._self_auth = self_auth

    def __mapping__(self) -> dict[str, Handler]:
        return {
            path: Handler(self._wrap(handler.func), *handler[1:])
            for path, handler in self._service.__mapping__().items()
        }

    def _wrap(
        self, func: Callable[[Stream[Any, Any]], Awaitable[None]]
    ) -> Callable[[Stream[Any, Any]], Awaitable[None]]:
        verifier, self_auth = self._verifier, self._self_auth

        async def guarded(stream: Stream[Any, Any]) -> None:
            address = stream.peer.addr()
            _PEER.set(address[0] if address else None)
            _AUTHORIZATION.set(authorization(stream))
            try:
                if not self_auth:
                    _CALLER.set(await verifier.authenticate(authorization(stream)))
                await func(stream)
            except Exception as exc:
                raise status_of(exc) from None

        return guarded
