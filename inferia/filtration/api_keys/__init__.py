"""API keys: issue, verify on the hot path, revoke."""

from inferia.filtration.api_keys.format import ApiKeyFormatError, IssuedKey, parse_api_key
from inferia.filtration.api_keys.service import ApiKeyService
from inferia.filtration.api_keys.store import ApiKeyStore
from inferia.filtration.api_keys.tables import ApiKey

__all__ = [
    "ApiKey",
    "ApiKeyFormatError",
    "ApiKeyService",
    "ApiKeyStore",
    "IssuedKey",
    "parse_api_key",
]
