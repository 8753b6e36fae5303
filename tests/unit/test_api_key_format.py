from __future__ import annotations

import pytest

from inferia.filtration.api_keys.format import (
    PREFIX,
    ApiKeyFormatError,
    generate_api_key,
    key_digest,
    parse_api_key,
)


def test_generated_keys_have_the_documented_shape() -> None:
    issued = generate_api_key()
    assert issued.plaintext.startswith(f"{PREFIX}{issued.public_id}-")
    secret = issued.plaintext.rsplit("-", 1)[1]
    assert len(secret) == 43 and secret.isalnum()  # 43 base62 chars >= 256 bits
    assert parse_api_key(issued.plaintext) == issued.public_id


def test_keys_are_unique() -> None:
    assert len({generate_api_key().plaintext for _ in range(1000)}) == 1000


@pytest.mark.parametrize(
    "credential",
    [
        "",
        "sk-inf-",
        "sk-proj-abc",
        "Bearer x",
        "sk-inf-" + "a" * 12 + "_" + "b" * 43,
        "sk-inf-" + "é" * 12 + "-" + "b" * 43,
        "sk-inf-" + "a" * 56,
    ],
)
def test_malformed_keys_are_rejected(credential: str) -> None:
    with pytest.raises(ApiKeyFormatError):
        parse_api_key(credential)


def test_digest_depends_on_the_pepper() -> None:
    key = generate_api_key().plaintext
    assert key_digest(b"one", key) != key_digest(b"two", key)
    assert key_digest(b"one", key) == key_digest(b"one", key)
    assert key not in key_digest(b"one", key)
