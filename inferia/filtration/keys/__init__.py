"""API keys: issue, verify on the hot path, revoke."""

from inferia.filtration.keys.format import ApiKeyFormatError, IssuedKey, parse_api_key
from inferia.filtration.keys.store import ApiKeyStore
from inferia.filtration.keys.tables import ApiKey

__all__ = ["ApiKey", "ApiKeyFormatError", "ApiKeyStore", "IssuedKey", "parse_api_key"]
