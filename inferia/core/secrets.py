"""Server secrets: taken from config, else generated once into the data directory.

The embedded default must run with no setup, yet never with a well-known key. Empty
``[security]`` keys are filled from ``<data_dir>/secrets.json`` (mode 0600), created
on first start. Processes that share a data directory share the secrets; processes on
different machines must be given the same values through config or environment.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from pathlib import Path

import msgspec

from inferia.config import SecuritySettings, Settings

log = logging.getLogger(__name__)
SECRETS_FILE = "secrets.json"


def resolve_secrets(settings: Settings) -> Settings:
    security = settings.security
    # Only the single-value keys are generated; the lists of retired keys stay as configured.
    missing = [
        name
        for name in security.__struct_fields__
        if isinstance(getattr(security, name), str) and not getattr(security, name)
    ]
    if not missing:
        return settings
    stored = _load_or_create(settings.data_path / SECRETS_FILE, missing)
    if settings.database.url:
        log.warning(
            "security keys %s are not configured; using generated ones from %s. "
            "Every process sharing this database must use the same values.",
            ", ".join(missing),
            settings.data_path / SECRETS_FILE,
        )
    filled = msgspec.structs.replace(security, **{name: stored[name] for name in missing})
    return msgspec.structs.replace(settings, security=filled)


def _load_or_create(path: Path, names: list[str]) -> dict[str, str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    absent = [name for name in names if not stored.get(name)]
    if absent:
        for name in absent:
            stored[name] = secrets.token_urlsafe(32)
        # Write-then-rename, created 0600, so a concurrent starter never reads half a file.
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(stored, handle)
        if path.exists():
            # Another process may have won the race: keep its values.
            current: dict[str, str] = json.loads(path.read_text())
            if all(current.get(name) for name in names):
                tmp.unlink()
                return current
        os.replace(tmp, path)
    return stored


__all__ = ["SecuritySettings", "resolve_secrets"]
