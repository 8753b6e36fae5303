"""The client's address behind reverse proxies.

A request's address is its peer's, unless the peer is a proxy the operator trusts
(``server.trusted_proxies``): then it is the nearest address in ``X-Forwarded-For``
that is not a trusted proxy, read from the right, as nginx's ``real_ip_recursive``
does. Without trusted proxies the header is ignored, since any client can write it.
The address feeds the per-address login throttle, audit records and inference logs.

The process' HTTP entry (``inferia.core.http_entry``) applies the rule once per request,
to the ASGI scope's ``client``, for every route: Litestar's and the /v1 endpoints'.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

from inferia.core.errors import ConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(entries: Sequence[str]) -> tuple[Network, ...]:
    networks: list[Network] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ConfigError(
                f"'server.trusted_proxies': {entry!r} is not an IP address or network"
            ) from None
    return tuple(networks)


class ClientAddresses:
    __slots__ = ("_networks",)

    def __init__(self, trusted_proxies: Sequence[str]) -> None:
        self._networks = parse_networks(trusted_proxies)

    @property
    def trusts_proxies(self) -> bool:
        return bool(self._networks)

    def resolve(self, peer: str | None, forwarded_for: str | None) -> str | None:
        """The client's address, given the peer's and the ``X-Forwarded-For`` values
        (comma-separated, oldest first)."""
        if peer is None or not forwarded_for or not self._trusted(_address(peer)):
            return peer
        client = peer
        for hop in reversed(forwarded_for.split(",")):
            hop = hop.strip()
            address = _address(hop)
            if address is None:
                # A garbled or hostile entry: the chain is believed up to the last
                # trusted hop only.
                return client
            if not self._trusted(address):
                return hop
            client = hop
        return client  # every hop is a trusted proxy: the oldest one

    def rewrite_client(self, scope: dict[str, Any]) -> None:
        """Behind a trusted proxy, an ASGI scope's ``client`` becomes the proxy's client
        (whose port is not known: 0)."""
        client = scope.get("client")
        if not client:
            return
        host = self.resolve(client[0], forwarded_for(scope["headers"]))
        if host is not None and host != client[0]:
            scope["client"] = (host, 0)

    def _trusted(self, address: Address | None) -> bool:
        return address is not None and any(address in net for net in self._networks)


def forwarded_for(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """Every X-Forwarded-For header of a request (ASGI's header list), joined: a chain
    of proxies may each add its own header instead of extending one."""
    values = [value.decode("latin-1") for name, value in headers if name == b"x-forwarded-for"]
    return ", ".join(values) if values else None


def _address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
