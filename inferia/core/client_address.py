"""The client's address behind reverse proxies.

A request's address is its peer's, unless the peer is a proxy the operator trusts
(``server.trusted_proxies``): then it is the nearest address in ``X-Forwarded-For``
that is not a trusted proxy, read from the right, as nginx's ``real_ip_recursive``
does. Without trusted proxies the header is ignored, since any client can write it.
The address feeds the per-address login throttle, audit records and inference logs.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from inferia.core.errors import ConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


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
        if peer is None or not forwarded_for or not self._trusted(peer):
            return peer
        client = peer
        for hop in reversed(forwarded_for.split(",")):
            hop = hop.strip()
            if not self._trusted(hop):
                # Not an address at all (a garbled or hostile entry): the last trusted
                # hop is as far as the chain can be believed.
                return hop if _is_address(hop) else client
            client = hop
        return client  # every hop is a trusted proxy: the oldest one

    def _trusted(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self._networks)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
