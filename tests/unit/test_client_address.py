"""The client's address behind reverse proxies (server.trusted_proxies)."""

from __future__ import annotations

import re

import pytest

from inferia.config import load_settings
from inferia.core.client_address import ClientAddresses
from inferia.core.errors import ConfigError

PROXIES = ClientAddresses(["10.0.0.0/8", "192.0.2.1", "fd00::/8"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        # No header, or a peer that is no trusted proxy: the peer, whatever it claims.
        ("10.0.0.1", None, "10.0.0.1"),
        ("203.0.113.5", "198.51.100.7", "203.0.113.5"),
        # One trusted proxy: the address it saw.
        ("10.0.0.1", "198.51.100.7", "198.51.100.7"),
        # A chain: the nearest untrusted hop from the right; what the client wrote
        # itself (the leftmost entries) is not believed past it.
        ("10.0.0.1", "1.1.1.1, 198.51.100.7, 10.2.3.4", "198.51.100.7"),
        ("192.0.2.1", "198.51.100.7,10.9.9.9", "198.51.100.7"),
        ("fd00::1", "2001:db8::7", "2001:db8::7"),
        # Every hop trusted: the oldest one.
        ("10.0.0.1", "10.0.0.2, 10.0.0.3", "10.0.0.2"),
        # A garbled entry: no further than the last trusted hop.
        ("10.0.0.1", "198.51.100.7, not-an-ip", "10.0.0.1"),
        ("10.0.0.1", "198.51.100.7, garbage, 10.0.0.5", "10.0.0.5"),
        (None, "198.51.100.7", None),
    ],
)
def test_the_client_is_the_nearest_untrusted_hop(
    peer: str | None, forwarded: str | None, client: str | None
) -> None:
    assert PROXIES.resolve(peer, forwarded) == client


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    nobody = ClientAddresses([])
    assert not nobody.trusts_proxies
    assert nobody.resolve("10.0.0.1", "198.51.100.7") == "10.0.0.1"


def test_a_bad_entry_stops_start_up_naming_it() -> None:
    with pytest.raises(ConfigError, match=re.escape("'server.trusted_proxies': 'ten' is not")):
        load_settings(env={"INFERIA_SERVER__TRUSTED_PROXIES": '["10.0.0.0/8", "ten"]'})
