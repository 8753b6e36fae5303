"""The API key format: ``sk-inf-<public id>-<secret>``.

The public id (12 base62 characters) names the key in lists, logs and the CLI; the
secret is 256 random bits in base62 (43 characters). Only an HMAC-SHA256 of the whole
key, under a server pepper, is stored: a leaked database does not yield usable keys,
and verification costs one HMAC (~2 µs), never a slow hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

import msgspec

PREFIX = "sk-inf-"
_ALPHABET = string.digits + string.ascii_letters
PUBLIC_ID_LENGTH = 12
SECRET_BYTES = 32
SECRET_LENGTH = 43  # ceil(256 / log2(62))
_KEY_LENGTH = len(PREFIX) + PUBLIC_ID_LENGTH + 1 + SECRET_LENGTH


class ApiKeyFormatError(ValueError):
    """The credential is not shaped like an Inferia API key."""


class IssuedKey(msgspec.Struct, frozen=True):
    public_id: str
    plaintext: str


def _base62(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, digit = divmod(value, 62)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def generate_api_key() -> IssuedKey:
    public_id = _base62(secrets.randbits(72), PUBLIC_ID_LENGTH)
    secret = _base62(int.from_bytes(secrets.token_bytes(SECRET_BYTES)), SECRET_LENGTH)
    return IssuedKey(public_id=public_id, plaintext=f"{PREFIX}{public_id}-{secret}")


def parse_api_key(credential: str) -> str:
    """Return the public id of a well-formed key; raise ApiKeyFormatError otherwise."""
    if len(credential) != _KEY_LENGTH or not credential.startswith(PREFIX):
        raise ApiKeyFormatError("not an Inferia API key")
    public_id, dash, secret = credential[len(PREFIX) :].partition("-")
    body = public_id + secret
    if not dash or len(public_id) != PUBLIC_ID_LENGTH or not (body.isascii() and body.isalnum()):
        raise ApiKeyFormatError("not an Inferia API key")
    return public_id


def key_digest(pepper: bytes, credential: str) -> str:
    return hmac.new(pepper, credential.encode(), hashlib.sha256).hexdigest()


def pepper_id(pepper: bytes) -> str:
    """A short, non-secret name of a pepper: which one a stored digest was made with."""
    return hashlib.sha256(b"inferia-pepper-id:" + pepper).hexdigest()[:8]
