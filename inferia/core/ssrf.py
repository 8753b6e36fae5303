"""The SSRF policy on upstream URLs (docs/api.md, "Upstream URLs and SSRF"), on resolved addresses.

- link-local and cloud-metadata addresses: always refused;
- loopback and private ranges: allowed for URLs the operator wrote in inferia.toml, for
  URLs set through the API only when ``inference.allow_private_api_upstreams`` is true.

Checked when a routing table is built (an endpoint that fails is left out) and when a
URL is set through the API; ``GuardedResolver`` checks again at connection time, so a
DNS answer that changes later (rebinding) cannot reach a refused address.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Metadata services outside the link-local range (Alibaba, Oracle, AWS IPv6).
_METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("100.100.100.200", "192.0.0.192", "fd00:ec2::254")
)


class SsrfRefused(ValueError):
    pass


def refusal(address: IPAddress, *, allow_private: bool) -> str | None:
    """Why ``address`` may not be an upstream, or None if it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_link_local or address in _METADATA:
        return "link-local or cloud metadata address"
    if address.is_unspecified or address.is_multicast or address.is_reserved:
        return "unroutable address"
    if not allow_private and (address.is_loopback or address.is_private):
        return "loopback or private address (not allowed for API-defined upstreams)"
    return None


def check_url(url: str, *, allow_private: bool) -> None:
    """Raise SsrfRefused unless every address ``url``'s host resolves to is allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SsrfRefused(f"not an http(s) URL: {url!r}")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 80, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise SsrfRefused(f"cannot resolve {parts.hostname!r}: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        reason = refusal(address, allow_private=allow_private)
        if reason:
            raise SsrfRefused(f"{parts.hostname!r} resolves to {address}: {reason}")


class GuardedResolver(AbstractResolver):
    """Drops refused addresses from DNS answers, for every connection of the session.

    ``strict_host(host)`` says whether private ranges are refused for that host (an
    API-defined upstream); link-local and metadata addresses are refused for all.
    """

    def __init__(self, strict_host: Callable[[str], bool]) -> None:
        # Built on first use: aiohttp's resolvers need the running loop.
        self._inner: AbstractResolver | None = None
        self._strict_host = strict_host

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if self._inner is None:
            self._inner = DefaultResolver()
        results = await self._inner.resolve(host, port, family)
        allow_private = not self._strict_host(host)
        kept = [
            result
            for result in results
            if refusal(ipaddress.ip_address(result["host"]), allow_private=allow_private) is None
        ]
        if not kept:
            raise OSError(f"SSRF policy: {host} resolves only to refused addresses")
        return kept

    async def close(self) -> None:
        if self._inner is not None:
            await self._inner.close()


def hostname(url: str) -> str:
    return urlsplit(url).hostname or ""
