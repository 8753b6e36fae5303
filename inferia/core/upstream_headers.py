"""Which extra headers an endpoint may send to its upstream.

Endpoints carry operator- or tenant-written ``headers`` (Azure's ``api-key``, routing
hints). They are merged into every upstream request on pooled keep-alive connections
that other tenants share, so a header that changes the message's framing or target
(``Content-Length``, ``Transfer-Encoding``, ``Host``), the connection's life (hop-by-hop
headers), or the credential the gateway sends (``Authorization``) is refused, and so
is any byte that would end a header line early. Checked when the headers are written
(inferia.toml at start-up, the management API with a 422) and again when the routing
table is built, for rows stored before this check existed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

MAX_HEADERS = 32
MAX_NAME_CHARS = 128
MAX_VALUE_CHARS = 4096

# RFC 9110 field-name: a token.
_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Visible ASCII, space and tab: no CR, LF, NUL or other control bytes, and no
# non-ASCII (aiohttp would encode it as UTF-8, which upstreams read differently).
_VALUE = re.compile(r"[\t\x20-\x7e]*")

REFUSED_NAMES = frozenset(
    {
        # Framing: decided by the gateway for the body it sends.
        "content-length",
        "transfer-encoding",
        "content-encoding",
        # Target and the gateway's own credential (``api_key``).
        "host",
        "authorization",
        # Hop-by-hop (RFC 9110 7.6.1) and their unofficial relatives.
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "upgrade",
        "expect",
    }
)


# Header (and query parameter) names that carry credentials: Azure's api-key,
# x-api-key, cookies, tokens... Their values are write-only: sealed at rest, masked in
# every answer, log and config dump.
_CREDENTIAL_NAME = re.compile(r"auth|key|token|secret|passw|cookie|session|signature", re.I)
MASK = "********"


def is_credential_name(name: str) -> bool:
    return bool(_CREDENTIAL_NAME.search(name))


class HeaderRefused(ValueError):
    """An endpoint header the gateway will not send; the message says why."""


def check_upstream_headers(headers: Mapping[str, str]) -> None:
    """Raise ``HeaderRefused`` for the first header that may not go upstream."""
    if len(headers) > MAX_HEADERS:
        raise HeaderRefused(f"at most {MAX_HEADERS} headers")
    seen: set[str] = set()
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise HeaderRefused("header names and values must be strings")
        shown = name[:40].encode("unicode_escape").decode("ascii")
        if len(name) > MAX_NAME_CHARS or not _NAME.fullmatch(name):
            raise HeaderRefused(f"invalid header name {shown!r}")
        lowered = name.lower()
        if lowered in REFUSED_NAMES:
            raise HeaderRefused(f"header {shown!r} is set by the gateway and cannot be overridden")
        if lowered in seen:
            raise HeaderRefused(f"header {shown!r} is given twice")
        seen.add(lowered)
        check_header_value(f"header {shown!r}", value)


def check_header_value(what: str, value: str) -> None:
    """``value`` can go in a header line (also an upstream ``api_key``, sent as
    ``Authorization: Bearer <api_key>``); ``what`` names it in the refusal."""
    if len(value) > MAX_VALUE_CHARS:
        raise HeaderRefused(f"{what}: longer than {MAX_VALUE_CHARS} characters")
    if not _VALUE.fullmatch(value):
        raise HeaderRefused(f"{what}: may hold only visible ASCII, spaces and tabs")
