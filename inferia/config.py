"""Typed settings: inferia.toml + INFERIA_* environment -> frozen msgspec Structs.

Precedence, lowest first: defaults, the TOML file (``--config`` / ``INFERIA_CONFIG`` /
``./inferia.toml`` when present), then environment variables named
``INFERIA_<SECTION>__<KEY>`` (``INFERIA_<KEY>`` for top-level keys). An unknown key or a
value of the wrong type stops start-up with a ``ConfigError`` naming the key.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec
import platformdirs

from inferia.core.errors import ConfigError

PlaneName = Literal["inference", "filtration", "orchestration", "dashboard"]
ALL_PLANES: tuple[PlaneName, ...] = ("inference", "filtration", "orchestration", "dashboard")

# Each plane's own port when it runs alone (split mode).
PLANE_DEFAULT_PORTS: dict[str, int] = {
    "inference": 8001,
    "filtration": 8000,
    "orchestration": 8080,
    "dashboard": 3001,
}


class _Section(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Base of every settings section: immutable, and unknown keys are errors."""


class ServerSettings(_Section, frozen=True):
    host: str = "127.0.0.1"
    port: int = 0
    workers: int = 1
    grpc_port: int = 50051
    max_body_bytes: int = 4 * 1024 * 1024
    drain_timeout_s: float = 30.0


class DatabaseSettings(_Section, frozen=True):
    url: str = ""
    pool_min: int = 1
    pool_max: int = 10
    sqlite_busy_timeout_ms: int = 5000
    migrate_on_start: bool = False


class StateSettings(_Section, frozen=True):
    url: str = ""


class LoggingSettings(_Section, frozen=True):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["plain", "json"] = "plain"
    access_log: bool = False


class SecuritySettings(_Section, frozen=True):
    secret_key: str = ""
    encryption_key: str = ""
    api_key_pepper: str = ""
    internal_token: str = ""


class RemoteSettings(_Section, frozen=True):
    filtration_url: str = "http://127.0.0.1:8000"
    orchestration_url: str = "http://127.0.0.1:8080"
    timeout_s: float = 5.0


class Settings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    data_dir: str = ""
    planes: list[PlaneName] = msgspec.field(default_factory=lambda: list(ALL_PLANES))
    server: ServerSettings = msgspec.field(default_factory=ServerSettings)
    database: DatabaseSettings = msgspec.field(default_factory=DatabaseSettings)
    state: StateSettings = msgspec.field(default_factory=StateSettings)
    logging: LoggingSettings = msgspec.field(default_factory=LoggingSettings)
    security: SecuritySettings = msgspec.field(default_factory=SecuritySettings)
    remote: RemoteSettings = msgspec.field(default_factory=RemoteSettings)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir) if self.data_dir else default_data_dir()

    @property
    def is_monolith(self) -> bool:
        return set(self.planes) == set(ALL_PLANES)

    def http_port(self) -> int:
        """The port this process listens on: explicit, else the plane's own default."""
        if self.server.port:
            return self.server.port
        if len(self.planes) == 1:
            return PLANE_DEFAULT_PORTS[self.planes[0]]
        return PLANE_DEFAULT_PORTS["filtration"]


SECTIONS: dict[str, type[msgspec.Struct]] = {
    "server": ServerSettings,
    "database": DatabaseSettings,
    "state": StateSettings,
    "logging": LoggingSettings,
    "security": SecuritySettings,
    "remote": RemoteSettings,
}
TOP_LEVEL_KEYS = ("data_dir", "planes")
SECRET_KEYS = frozenset(
    {"secret_key", "encryption_key", "api_key_pepper", "internal_token", "api_key"}
)
ENV_PREFIX = "INFERIA_"
# Variables with the prefix that are not settings (they configure the CLI or tests).
NON_SETTING_ENV = frozenset({"CONFIG", "ADMIN_EMAIL", "ADMIN_PASSWORD"})


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("inferia", appauthor=False))


def default_config_path() -> Path | None:
    """The file to read when none is named: ./inferia.toml, if it exists."""
    candidate = Path("inferia.toml")
    return candidate if candidate.is_file() else None


def load_settings(
    path: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build the effective settings. ``overrides`` (from CLI flags) win over everything."""
    env = os.environ if env is None else env
    if path is None and env.get("INFERIA_CONFIG"):
        path = Path(env["INFERIA_CONFIG"])
    elif path is None:
        path = default_config_path()
    raw: dict[str, Any] = _read_toml(path) if path is not None else {}
    _merge(raw, _env_overrides(env))
    _merge(raw, dict(overrides or {}))
    return _convert(raw, source=str(path) if path else "defaults")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def _env_overrides(env: Mapping[str, str]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        key = name[len(ENV_PREFIX) :].lower()
        section, sep, field = key.partition("__")
        if sep and section in SECTIONS:
            result.setdefault(section, {})[field] = _parse_env_value(value)
        elif not sep and key in TOP_LEVEL_KEYS:
            result[key] = _parse_env_value(value)
    return result


def _parse_env_value(value: str) -> Any:
    """Read an environment value as a TOML value when it is one (8000, true, ["a"]),
    else as a plain string (URLs, paths)."""
    try:
        return tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        return value


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = dict(value) if isinstance(value, Mapping) else value


_PATH_RE = re.compile(r"`\$((?:\.\w+|\[\d+\])*)`")


def _convert(raw: dict[str, Any], *, source: str) -> Settings:
    try:
        settings = msgspec.convert(raw, Settings)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{source}: {_describe(str(exc))}") from None
    _validate(settings, source)
    return settings


def _describe(message: str) -> str:
    """Turn msgspec's "... - at `$.server`" into a message naming the dotted key."""
    unknown = re.match(r"Object contains unknown field `(\w+)` - at `\$(.*)`", message)
    if unknown:
        return f"unknown setting '{_dotted(unknown.group(2), unknown.group(1))}'"
    unknown_top = re.match(r"Object contains unknown field `(\w+)`$", message)
    if unknown_top:
        return f"unknown setting '{unknown_top.group(1)}'"
    where = _PATH_RE.search(message)
    key = _dotted(where.group(1)) if where else "?"
    reason = message.split(" - at ")[0]
    return f"invalid value for '{key}': {reason}"


def _dotted(path: str, leaf: str | None = None) -> str:
    parts = [p for p in re.split(r"\.", path.replace("[", ".[")) if p]
    if leaf:
        parts.append(leaf)
    return ".".join(parts).replace(".[", "[")


def _validate(settings: Settings, source: str) -> None:
    if not settings.planes:
        raise ConfigError(f"{source}: 'planes' must name at least one plane")
    if settings.server.workers < 1:
        raise ConfigError(f"{source}: 'server.workers' must be >= 1")
    if not 0 <= settings.server.port <= 65535:
        raise ConfigError(f"{source}: 'server.port' must be between 0 and 65535")
    if settings.database.pool_min < 1 or settings.database.pool_max < settings.database.pool_min:
        raise ConfigError(f"{source}: 'database.pool_max' must be >= 'database.pool_min' >= 1")


def replace_section(settings: Settings, section: str, **changes: Any) -> Settings:
    """A copy of ``settings`` with some keys of one section changed."""
    current = getattr(settings, section)
    return msgspec.structs.replace(
        settings, **{section: msgspec.structs.replace(current, **changes)}
    )


def masked(settings: Settings) -> dict[str, Any]:
    """The effective settings as plain data, with secrets masked (``config show``)."""
    data: dict[str, Any] = msgspec.to_builtins(settings)
    masked_data: dict[str, Any] = _mask(data)
    return masked_data


def _mask(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _mask(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, key) for v in value]
    if isinstance(value, str) and value:
        if key in SECRET_KEYS:
            return "********"
        if key.endswith("url"):
            return re.sub(r"(//[^:/@]+:)[^@]+@", r"\1********@", value)
    return value
