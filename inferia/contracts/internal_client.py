"""The client side of ``/internal/*``: how one plane calls another (split mode).

One place for what every remote port does the same way: the internal service
credential, the timeout, and turning any failure into ``RemoteServiceError`` (503) so
a request never sees a 500 because another plane is down.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import aiohttp
import msgspec

from inferia.contracts.principals import INTERNAL_TOKEN_HEADER
from inferia.core.errors import RemoteServiceError

T = TypeVar("T")


class InternalClient:
    def __init__(
        self,
        session: Callable[[], aiohttp.ClientSession],
        base_url: str,
        internal_token: str,
        timeout_s: float,
        plane: str,
    ) -> None:
        # Named in every error, so an operator knows which URL to look at.
        self._plane = plane
        # A provider, not a session: the process' session exists only inside the lifespan.
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._headers = {INTERNAL_TOKEN_HEADER: internal_token, "content-type": "application/json"}
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def call(
        self,
        method: str,
        path: str,
        decoder: msgspec.json.Decoder[T],
        *,
        body: bytes | None = None,
        what: str,
    ) -> T | None:
        """The decoded 200 reply; None on 404; ``RemoteServiceError`` otherwise."""
        try:
            async with self._session().request(
                method,
                self._base_url + path,
                data=body,
                headers=self._headers,
                timeout=self._timeout,
                # A redirect would carry the internal token to wherever it points.
                allow_redirects=False,
            ) as response:
                if response.status == 404:
                    return None
                if response.status != 200:
                    raise RemoteServiceError(
                        f"{self._plane} plane answered {response.status} to {what}"
                    )
                return decoder.decode(await response.read())
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RemoteServiceError(
                f"{self._plane} plane unreachable at {self._base_url}: {type(exc).__name__}"
            ) from None

    async def reachable(self) -> bool:
        """Whether the plane answers its ``/health`` (for this process' ``/ready``)."""
        try:
            async with self._session().get(
                self._base_url + "/health", timeout=self._timeout, allow_redirects=False
            ) as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError, RuntimeError):
            return False

    async def get(self, path: str, decoder: msgspec.json.Decoder[T], *, what: str) -> T:
        """A GET whose resource always exists: 404 is an error too."""
        result = await self.call("GET", path, decoder, what=what)
        if result is None:
            raise RemoteServiceError(f"{self._plane} plane answered 404 to {what}")
        return result
