"""Access tokens: short-lived HS256 JWTs (joserfc), algorithm pinned.

``jwt.decode`` only checks the signature; the claims (issuer, audience, expiry and
the ones we need) are validated separately with ``JWTClaimsRegistry``. Any failure
is the same 401 to the client: which check failed is nobody's business but the log's.
"""

from __future__ import annotations

import logging
import secrets
import time

import msgspec
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from joserfc.jwt import JWTClaimsRegistry

from inferia.config import AuthSettings
from inferia.core.crypto import derive_key
from inferia.core.errors import AuthenticationError

log = logging.getLogger(__name__)
ALGORITHM = "HS256"
TOKEN_TYPE = "access"
_MAX_TOKEN_LENGTH = 4096
_LEEWAY_S = 10


class AccessClaims(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    organization_id: str
    session_id: str
    expires_at: int


class IssuedAccessToken(msgspec.Struct, frozen=True, kw_only=True):
    token: str
    expires_in: int


class AccessTokenCodec:
    def __init__(self, secret_key: str, auth: AuthSettings) -> None:
        # A key derived for this one purpose: the same secret may key other things.
        self._key = OctKey.import_key(derive_key(secret_key, b"inferia/jwt/hs256"))
        self._issuer = auth.issuer
        self._audience = auth.audience
        self._ttl_s = auth.access_token_ttl_s
        self._registry = JWTClaimsRegistry(
            leeway=_LEEWAY_S,
            iss={"essential": True, "value": auth.issuer},
            aud={"essential": True, "value": auth.audience},
            exp={"essential": True},
            sub={"essential": True},
            org={"essential": True},
            sid={"essential": True},
            typ={"essential": True, "value": TOKEN_TYPE},
        )

    def issue(self, user_id: str, organization_id: str, session_id: str) -> IssuedAccessToken:
        now = int(time.time())
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": user_id,
            "org": organization_id,
            "sid": session_id,
            "typ": TOKEN_TYPE,
            "iat": now,
            "nbf": now,
            "exp": now + self._ttl_s,
            "jti": secrets.token_urlsafe(12),
        }
        token = jwt.encode({"alg": ALGORITHM, "typ": "JWT"}, claims, self._key, [ALGORITHM])
        return IssuedAccessToken(token=token, expires_in=self._ttl_s)

    def verify(self, token: str) -> AccessClaims:
        if not token or len(token) > _MAX_TOKEN_LENGTH:
            raise AuthenticationError("invalid or expired access token")
        try:
            decoded = jwt.decode(token, self._key, algorithms=[ALGORITHM])
            self._registry.validate(decoded.claims)
            claims = decoded.claims
            return AccessClaims(
                user_id=_text(claims["sub"]),
                organization_id=_text(claims["org"]),
                session_id=_text(claims["sid"]),
                expires_at=int(claims["exp"]),
            )
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            log.debug("access token refused: %s", type(exc).__name__)
            raise AuthenticationError("invalid or expired access token") from None


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("claim must be a non-empty string")
    return value
