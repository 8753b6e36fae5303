"""Who may read GET /metrics: loopback clients, or anyone with the scrape token."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from inferia.core.metrics import may_scrape


def request(host: str | None, authorization: str | None = None) -> Any:
    headers = {"authorization": authorization} if authorization is not None else {}
    client = SimpleNamespace(host=host) if host is not None else None
    return SimpleNamespace(headers=headers, client=client)


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("10.0.0.7", False),
        ("192.168.1.2", False),
        ("2001:db8::1", False),
        ("", False),
        (None, False),
    ],
)
def test_without_a_token_only_loopback_clients(host: str | None, allowed: bool) -> None:
    assert may_scrape(request(host), "") is allowed


def test_with_a_token_only_its_holders_wherever_they_are() -> None:
    assert may_scrape(request("10.0.0.7", "Bearer s3cret"), "s3cret")
    assert not may_scrape(request("127.0.0.1"), "s3cret")  # loopback alone is not enough
    assert not may_scrape(request("127.0.0.1", "Bearer wrong"), "s3cret")
    assert not may_scrape(request("127.0.0.1", "s3cret"), "s3cret")
