"""EVALSHA commands packed with their keys' prefix reused: the bytes pack_command makes."""

from __future__ import annotations

from typing import Any

import pytest

from inferia.state import redis_wire
from inferia.state.redis_wire import EvalShaPacker, pack_command

SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    "args",
    [
        ["a", "req-1", "g 10 60000 1 1 c 2 1 1 60000"],
        ("s", "req-é", "g 10 60000 1 -5"),
        [1, 2.5, b"\x00\r\n$3\r\n", "x"],
        [],
    ],
)
@pytest.mark.parametrize("keys", [(), ("k",), ("inferia:lim:{o}:api_key:k:*:rpm", "ké:2", "k3")])
def test_packed_like_pack_command(keys: tuple[str, ...], args: list[Any]) -> None:
    packer = EvalShaPacker()
    expected = pack_command(("EVALSHA", SHA, len(keys), *keys, *args))
    for _ in range(2):  # the prefix packed, then reused
        assert packer.pack(SHA, keys, args) == expected
        assert packer.pack(SHA, list(keys), args) == expected  # a list: packed whole
    # The same keys with another number of arguments.
    more = [*args, "extra"]
    assert packer.pack(SHA, keys, more) == pack_command(("EVALSHA", SHA, len(keys), *keys, *more))


def test_prefixes_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redis_wire, "_PREFIXES_MAX", 3)
    packer = EvalShaPacker()
    for i in range(10):
        keys = (f"key-{i}",)
        assert packer.pack(SHA, keys, ["a"]) == pack_command(("EVALSHA", SHA, 1, *keys, "a"))
        assert len(packer._prefixes) <= 3
