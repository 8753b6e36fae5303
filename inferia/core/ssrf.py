"""The SSRF policy on upstream URLs (docs/security.md), on resolved addresses.

- link-local and cloud-metadata addresses: always refused;
- anything not globally routable (loopback, private, shared, site-local...): allowed for
  URLs the operator wrote in inferia.toml, for URLs set through the API only when
  ``inference.allow_private_api_upstreams`` is true.

IPv6 forms that embed an IPv4 address (mapped, 6to4, Teredo, NAT64) are judged by that
address. Upstream calls never follow redirects, so the checked URL is the one connected
to; IP-literal hosts never reach the resolver, and are checked (by ``check_url``) with
the same rules when the routing table is built or the URL is set.

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


# NAT64 prefixes (RFC 6052 well-known, RFC 8215 local-use): the IPv4 address is the last
# 32 bits.
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
# IANA's special-purpose ranges that are not globally reachable, listed here as well as
# asked of ``is_global``: what the standard library counts has changed between Python
# releases (192.0.0.0/24 and 100.64.0.0/10 among them). Whole blocks are refused even
# where IANA marks a few anycast addresses in them global.
_NOT_GLOBAL = tuple(
    ipaddress.ip_network(block)
    for block in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "240.0.0.0/4",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "3fff::/20",
        "5f00::/16",
        "fc00::/7",
        "fec0::/10",
    )
)


def _embedded_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, Teredo, NAT64), or itself:
    the policy judges where a connection really goes."""
    if not isinstance(address, ipaddress.IPv6Address):
        return address
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in prefix for prefix in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def refusal(address: IPAddress, *, allow_private: bool) -> str | None:
    """Why ``address`` may not be an upstream, or None if it may.

    Without ``allow_private`` only globally routable addresses pass: not only RFC 1918
    and loopback but also shared address space (100.64.0.0/10, cluster overlays), IETF
    protocol assignments, site-local IPv6 and the rest of what ``is_global`` excludes.
    """
    address = _embedded_ipv4(address)
    if address.is_link_local or address in _METADATA:
        return "link-local or cloud metadata address"
    if address.is_unspecified or address.is_multicast or address.is_reserved:
        return "unroutable address"
    if not allow_private and (
        not address.is_global or any(address in block for block in _NOT_GLOBAL)
    ):
        return "not a globally routable address (not allowed for API-defined upstreams)"
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


def has_userinfo(url: str) -> bool:
    """Whether ``url`` carries ``user[:password]@`` (a credential in a URL)."""
    try:
        return "@" in urlsplit(url).netloc
    except ValueError:
        return False


def hostname(url: str) -> str:
    return urlsplit(url).hostname or ""
