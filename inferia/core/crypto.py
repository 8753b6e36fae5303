"""Encryption of secrets at rest (TOTP seeds, provider credentials) with key rotation.

AES-256-GCM under a key derived with HKDF-SHA256 from ``security.encryption_key``.
A ciphertext is ``v1.<key id>.<base64url(nonce || ciphertext || tag)>``; the key id
(8 hex characters of a hash of the derived key) says which key sealed it, so after a
rotation the retired keys listed in ``security.previous_encryption_keys`` still open
old values while new ones are sealed with the current key. ``context`` is bound as
associated data: a value copied onto another row (another user's TOTP seed) fails to
open. There is no plaintext fallback: a value that does not open is an error.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = "v1"
_NONCE_BYTES = 12


class DecryptionError(Exception):
    """The value was not sealed by any configured key, or was altered."""


def derive_key(secret: str, purpose: bytes) -> bytes:
    """32 bytes for one purpose from an operator-supplied secret string."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret.encode()
    )


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"inferia-key-id" + key).hexdigest()[:8]


class SecretBox:
    def __init__(self, current: str, previous: Sequence[str] = ()) -> None:
        if not current:
            raise ValueError("an encryption key is required")
        self._current = derive_key(current, b"inferia/secret-box/v1")
        self._current_id = _key_id(self._current)
        self._keys = {self._current_id: AESGCM(self._current)}
        for secret in previous:
            if secret:
                key = derive_key(secret, b"inferia/secret-box/v1")
                self._keys.setdefault(_key_id(key), AESGCM(key))

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._keys[self._current_id].encrypt(nonce, plaintext.encode(), context.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{_VERSION}.{self._current_id}.{body}"

    def decrypt(self, token: str, context: str) -> str:
        version, _, rest = token.partition(".")
        key_id, _, body = rest.partition(".")
        cipher = self._keys.get(key_id)
        if version != _VERSION or cipher is None or not body:
            raise DecryptionError("sealed with an unknown key or format")
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            plaintext = cipher.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode())
        except (InvalidTag, ValueError) as exc:
            raise DecryptionError("the value was altered or sealed for another context") from exc
        return plaintext.decode()

    def is_current(self, token: str) -> bool:
        """False when ``token`` was sealed with a retired key (re-encrypt it)."""
        return token.split(".", 2)[1:2] == [self._current_id]
