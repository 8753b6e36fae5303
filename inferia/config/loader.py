"""Loading the settings: inferia.toml + INFERIA_* environment + CLI flags -> ``Settings``.

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
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import msgspec

from inferia.config.knowledge import KnowledgeSettings
from inferia.config.limits import NO_LIMITS
from inferia.config.sections import (
    AuthSettings,
    DatabaseSettings,
    GuardrailSettings,
    InferenceSettings,
    LimitsSettings,
    LoggingSettings,
    MetricsSettings,
    OrchestrationSettings,
    RemoteSettings,
    SecuritySettings,
    ServerSettings,
    Settings,
    StateSettings,
    TemplateSettings,
    UsageSettings,
)
from inferia.core.client_address import parse_networks
from inferia.core.errors import ConfigError
from inferia.core.upstream_headers import (
    MASK,
    HeaderRefused,
    check_header_value,
    check_upstream_headers,
    is_credential_name,
)

SECTIONS: dict[str, type[msgspec.Struct]] = {
    "server": ServerSettings,
    "database": DatabaseSettings,
    "state": StateSettings,
    "logging": LoggingSettings,
    "metrics": MetricsSettings,
    "security": SecuritySettings,
    "auth": AuthSettings,
    "remote": RemoteSettings,
    "inference": InferenceSettings,
    "limits": LimitsSettings,
    "usage": UsageSettings,
    "guardrails": GuardrailSettings,
    "templates": TemplateSettings,
    "orchestration": OrchestrationSettings,
    "knowledge": KnowledgeSettings,
}
TOP_LEVEL_KEYS = ("data_dir", "planes", "models")
SECRET_KEYS = frozenset(
    {
        "secret_key",
        "encryption_key",
        "api_key_pepper",
        "internal_token",
        "scrape_token",
        "api_key",
        "previous_encryption_keys",
        "previous_api_key_peppers",
    }
)
ENV_PREFIX = "INFERIA_"


def default_config_path() -> Path | None:
    """The file to read when none is named: ./inferia.toml, if it exists."""
    candidate = Path("inferia.toml")
    return candidate if candidate.is_file() else None


# How `inferia serve` hands the effective settings to the processes it starts (the
# pre-flight child and granian's workers): JSON in this environment variable.
SETTINGS_ENV = "INFERIA_SETTINGS_JSON"


def settings_from_env() -> Settings:
    """The settings a parent `inferia serve` put in SETTINGS_ENV."""
    return msgspec.json.decode(os.environ[SETTINGS_ENV], type=Settings)


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
    from_env = _env_overrides(env)
    _merge(raw, from_env)
    _merge(raw, dict(overrides or {}))
    source = str(path) if path else "defaults"
    try:
        return _convert(raw, source=source)
    except ConfigError as exc:
        variable = _env_variable_named_in(exc.message, from_env, overrides or {})
        if variable is None:
            raise
        # The value came from the environment: say so, not the file it did not come from.
        message = exc.message.removeprefix(f"{source}: ")
        raise ConfigError(f"environment variable {variable}: {message}") from None


def _env_variable_named_in(
    message: str, from_env: Mapping[str, Any], overrides: Mapping[str, Any]
) -> str | None:
    """The INFERIA_* variable that set the first setting ``message`` quotes, if one did
    (and no command-line flag overrode it)."""
    for quoted in re.findall(r"'([\w.\[\]]+)'", message):
        parts = re.split(r"[.\[]", quoted)
        section, field = parts[0], parts[1] if len(parts) > 1 else None
        values = from_env.get(section)
        if field is not None and isinstance(values, Mapping) and field in values:
            if field in (overrides.get(section) or {}):
                return None
            return f"{ENV_PREFIX}{section.upper()}__{field.upper()}"
        if section in from_env and not isinstance(values, Mapping):
            return None if section in overrides else f"{ENV_PREFIX}{section.upper()}"
    return None


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
    settings = _with_every_key_default(settings)
    _validate(settings, source)
    return settings


def _with_every_key_default(settings: Settings) -> Settings:
    """``[limits.key_defaults]`` with the limits it leaves out at 0 (no limit), as
    inferia.toml lists them (the shared ``LimitValues`` leaves them None: "inherit")."""
    given = msgspec.structs.asdict(settings.limits.key_defaults)
    filled = msgspec.structs.replace(
        NO_LIMITS, **{name: value for name, value in given.items() if value is not None}
    )
    return replace_section(settings, "limits", key_defaults=filled)


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
    try:
        parse_networks(settings.server.trusted_proxies)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc.message}") from None
    for origin in settings.server.cors_origins:
        if origin != "*" and not re.fullmatch(r"https?://[^/\s]+/?", origin):
            raise ConfigError(
                f"{source}: 'server.cors_origins': {origin!r} is not an origin "
                '(scheme://host[:port], or "*")'
            )
    if settings.database.pool_min < 1 or settings.database.pool_max < settings.database.pool_min:
        raise ConfigError(f"{source}: 'database.pool_max' must be >= 'database.pool_min' >= 1")
    for index, model in enumerate(settings.models):
        if not model.name or not model.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"{source}: 'models[{index}]' needs a name and an http(s) base_url")
        if model.weight < 1:
            raise ConfigError(f"{source}: 'models[{index}].weight' must be >= 1")
        try:
            check_upstream_headers(model.headers)
            check_header_value("api_key", model.api_key)
        except HeaderRefused as exc:
            raise ConfigError(f"{source}: 'models[{index}]': {exc}") from None
    if settings.inference.max_retries < 0:
        raise ConfigError(f"{source}: 'inference.max_retries' must be >= 0")
    _validate_auth(settings.auth, source)
    if settings.guardrails.max_scan_chars < 1:
        raise ConfigError(f"{source}: 'guardrails.max_scan_chars' must be >= 1")
    if not 0 < settings.guardrails.pattern_budget_ms <= 10_000:
        raise ConfigError(f"{source}: 'guardrails.pattern_budget_ms' must be in (0, 10000]")
    _validate_limits(settings, source)
    orchestration = settings.orchestration
    if not 0 < orchestration.heartbeat_timeout_s < orchestration.node_lost_after_s:
        raise ConfigError(
            f"{source}: 'orchestration.node_lost_after_s' must exceed "
            "'orchestration.heartbeat_timeout_s' > 0"
        )


def _validate_auth(auth: AuthSettings, source: str) -> None:
    positive = (
        "access_token_ttl_s",
        "refresh_token_ttl_s",
        "login_window_s",
        "login_max_failures_per_account",
        "login_max_failures_per_address",
        "invitation_ttl_s",
        "argon2_time_cost",
        "argon2_parallelism",
    )
    for name in positive:
        if getattr(auth, name) < 1:
            raise ConfigError(f"{source}: 'auth.{name}' must be >= 1")
    if auth.password_min_length < 8:
        raise ConfigError(f"{source}: 'auth.password_min_length' must be >= 8")
    if not 0 <= auth.totp_window <= 3:
        raise ConfigError(f"{source}: 'auth.totp_window' must be between 0 and 3")
    if auth.argon2_memory_kib < 8 * auth.argon2_parallelism:
        raise ConfigError(f"{source}: 'auth.argon2_memory_kib' must be >= 8 * argon2_parallelism")


def _validate_limits(settings: Settings, source: str) -> None:
    limits = settings.limits
    for name, value in msgspec.structs.asdict(limits.key_defaults).items():
        if value < 0:
            raise ConfigError(f"{source}: 'limits.key_defaults.{name}' must be >= 0")
    for name in ("default_max_tokens", "max_tokens", "slot_ttl_s", "policy_cache_ttl_s"):
        if getattr(limits, name) <= 0:
            raise ConfigError(f"{source}: 'limits.{name}' must be > 0")
    for model, price in settings.pricing.items():
        if price.prompt < 0 or price.completion < 0:
            raise ConfigError(f"{source}: 'pricing.{model}' prices must be >= 0")
    budgets = limits.key_defaults.daily_budget or limits.key_defaults.monthly_budget
    if budgets and "*" not in settings.pricing:
        unpriced = sorted({m.name for m in settings.models} - set(settings.pricing))
        if unpriced or not settings.models:
            raise ConfigError(
                f"{source}: 'limits.key_defaults' sets a cost budget but 'pricing' has no "
                f'price for model(s) {", ".join(unpriced) or "*"}; add [pricing."<model>"] '
                'prompt/completion (USD per million tokens) or [pricing."*"]'
            )
    if (
        settings.usage.batch_size < 1
        or settings.usage.flush_interval_ms < 1
        or settings.usage.backlog_max_events < 1
    ):
        raise ConfigError(
            f"{source}: 'usage.batch_size', 'usage.flush_interval_ms' and "
            "'usage.backlog_max_events' must be >= 1"
        )


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


def _mask(value: Any, key: str = "", parent: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _mask(v, k, key) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, key, parent) for v in value]
    if isinstance(value, str) and value:
        if key in SECRET_KEYS or (parent == "headers" and is_credential_name(key)):
            return MASK
        if key.endswith("url"):
            return masked_url(value)
    return value


def masked_url(url: str) -> str:
    """``url`` with the user-info's password (or a lone user-info, which may be a token,
    as in ``redis://:password@host`` or ``https://token@host``) and credential-like
    query parameters masked."""
    try:
        parts = urlsplit(url)
        has_userinfo = "@" in parts.netloc
    except ValueError:
        return MASK
    netloc = parts.netloc
    if has_userinfo:
        userinfo, _, host = netloc.rpartition("@")
        user, colon, _password = userinfo.partition(":")
        netloc = f"{user}:{MASK}@{host}" if colon else f"{MASK}@{host}"
    query = "&".join(
        f"{name}={MASK}" if is_credential_name(name) else f"{name}={value}" if sep else name
        for name, sep, value in (item.partition("=") for item in parts.query.split("&") if item)
    )
    return urlunsplit(parts._replace(netloc=netloc, query=query))
