"""Per-node tokens: random, shown once at registration, stored as an HMAC digest.

The HMAC key is derived from ``security.encryption_key`` (this plane has no other
secret of its own): a leaked database yields no usable token. Rotating the encryption
key invalidates node tokens; nodes register again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from inferia.core.crypto import derive_key

PREFIX = "inode_"


class NodeTokens:
    def __init__(self, secret: str) -> None:
        self._key = derive_key(secret, b"inferia/node-token/v1")

    def issue(self) -> tuple[str, str]:
        """A new token and its digest."""
        token = PREFIX + secrets.token_urlsafe(32)
        return token, self.digest(token)

    def digest(self, token: str) -> str:
        return hmac.new(self._key, token.encode(), hashlib.sha256).hexdigest()
