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
    # Retired keys still accepted for decryption / key verification during a rotation.
    previous_encryption_keys: list[str] = msgspec.field(default_factory=list)
    previous_api_key_peppers: list[str] = msgspec.field(default_factory=list)


class AuthSettings(_Section, frozen=True):
    access_token_ttl_s: int = 900
    refresh_token_ttl_s: int = 14 * 24 * 3600
    issuer: str = "inferia"
    audience: str = "inferia"
    password_min_length: int = 12
    totp_window: int = 1
    totp_issuer: str = "Inferia"
    login_window_s: int = 900
    login_max_failures_per_account: int = 5
    login_max_failures_per_address: int = 50
    invitation_ttl_s: int = 7 * 24 * 3600
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4


class LimitDefaults(_Section, frozen=True):
    """Limits of every API key without a policy of its own (0: no limit)."""

    rpm: int = 0
    tpm: int = 0
    max_parallel: int = 0
    daily_tokens: int = 0
    monthly_tokens: int = 0
    daily_budget: float = 0.0
    monthly_budget: float = 0.0


StateErrorMode = Literal["fail_closed", "fail_open"]


class LimitsSettings(_Section, frozen=True):
    # What admission does when the state backend (Redis) cannot be reached.
    on_state_error: StateErrorMode = "fail_closed"
    # The same for requests that a cost budget applies to.
    budgets_on_state_error: StateErrorMode = "fail_closed"
    # Completion tokens reserved when a request sets no max_tokens.
    default_max_tokens: int = 1024
    # Largest max_tokens reserved (and sent upstream) for models not in model_max_tokens.
    max_tokens: int = 16384
    model_max_tokens: dict[str, int] = msgspec.field(default_factory=dict)
    # How long a concurrency slot outlives a gateway that died holding it.
    slot_ttl_s: float = 900.0
    # Backstop refresh of cached policy snapshots (changes are also pushed).
    policy_cache_ttl_s: float = 60.0
    key_defaults: LimitDefaults = msgspec.field(default_factory=LimitDefaults)


class ModelPriceSettings(_Section, frozen=True):
    """USD per million tokens."""

    prompt: float
    completion: float


class UsageSettings(_Section, frozen=True):
    # Records written per database transaction by the usage consumer.
    batch_size: int = 500
    # How long the consumer waits for new records before writing a partial batch.
    flush_interval_ms: int = 500
    # Records read by a consumer that died unacknowledged are taken over after this.
    claim_idle_s: float = 30.0
    # Store request/response bodies in inference logs for organisations without a setting.
    log_bodies: bool = False
    # Longest body kept in an inference log, in characters.
    max_body_chars: int = 65536


GuardrailAction = Literal["block", "redact", "flag"]


class GuardrailRule(_Section, frozen=True):
    """One scanner of a guardrail policy: ``{ scanner = "pii", action = "redact" }``."""

    scanner: str
    action: GuardrailAction = "flag"
    threshold: float | None = None
    categories: list[str] = msgspec.field(default_factory=list)
    fail_mode: Literal["open", "closed"] = "closed"
    words: list[str] = msgspec.field(default_factory=list)
    patterns: list[str] = msgspec.field(default_factory=list)
    options: dict[str, Any] = msgspec.field(default_factory=dict)


class DetoxifySettings(_Section, frozen=True):
    """The detoxify plugin (``pip install inferia[detoxify]`` + plugins/inferia-detoxify)."""

    # The checkpoint file (.ckpt) to load; nothing is ever downloaded.
    checkpoint: str = ""
    # A folder with the transformer's config and tokenizer files ("" = the name in the
    # checkpoint must be resolvable offline).
    huggingface_config_path: str = ""
    workers: int = 1
    max_queue: int = 64
    timeout_s: float = 2.0
    max_chars: int = 4000


class GuardrailSettings(_Section, frozen=True):
    """The default guardrail policy of every organisation, and scanner settings."""

    input: list[GuardrailRule] = msgspec.field(
        default_factory=lambda: [
            GuardrailRule(scanner="secrets", action="redact"),
            GuardrailRule(scanner="pii", action="redact"),
            GuardrailRule(scanner="injection", action="flag"),
        ]
    )
    output: list[GuardrailRule] = msgspec.field(
        default_factory=lambda: [
            GuardrailRule(scanner="secrets", action="redact"),
            GuardrailRule(scanner="pii", action="redact"),
        ]
    )
    # Scan the prompt again after templates/RAG shaped it.
    rescan_shaped_prompt: bool = False
    # Characters of one request's text that are scanned; beyond it "refuse" (413) or
    # "truncate" (scan only the first max_scan_chars, and record that).
    max_scan_chars: int = 200_000
    oversize: Literal["refuse", "truncate"] = "refuse"
    # Backstop refresh of cached per-organisation policies (changes are also pushed).
    policy_cache_ttl_s: float = 60.0
    detoxify: DetoxifySettings = msgspec.field(default_factory=DetoxifySettings)


class RemoteSettings(_Section, frozen=True):
    filtration_url: str = "http://127.0.0.1:8000"
    orchestration_url: str = "http://127.0.0.1:8080"
    timeout_s: float = 5.0


RoutingStrategy = Literal["weighted_round_robin", "least_outstanding", "prefix_affinity"]
# Upstream failure classes that may send a request on to a fallback model.
FallbackClass = Literal["context_length", "rate_limit", "server_error", "timeout", "connection"]


class InferenceSettings(_Section, frozen=True):
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 120.0
    request_timeout_s: float = 600.0
    max_retries: int = 2
    retry_backoff_s: float = 0.05
    routing_strategy: RoutingStrategy = "weighted_round_robin"
    fallbacks: dict[str, list[str]] = msgspec.field(default_factory=dict)
    fallback_on: list[FallbackClass] = msgspec.field(
        default_factory=lambda: [
            "context_length",
            "rate_limit",
            "server_error",
            "timeout",
            "connection",
        ]
    )
    max_tokens_limit: int = 1_000_000
    circuit_failure_threshold: int = 5
    circuit_cooldown_s: float = 30.0
    prefix_affinity_chars: int = 512
    prefix_affinity_load_factor: float = 1.25
    routing_refresh_s: float = 30.0
    allow_private_api_upstreams: bool = False
    max_upstream_response_bytes: int = 64 * 1024 * 1024


class ModelEndpointSettings(_Section, frozen=True):
    """One ``[[models]]`` table: an upstream endpoint serving a model name."""

    name: str
    base_url: str
    api_key: str = ""
    api_key_env: str = ""
    upstream_model: str = ""
    weight: int = 1
    routing_strategy: RoutingStrategy | None = None
    connect_timeout_s: float | None = None
    request_timeout_s: float | None = None
    headers: dict[str, str] = msgspec.field(default_factory=dict)


class Settings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    data_dir: str = ""
    planes: list[PlaneName] = msgspec.field(default_factory=lambda: list(ALL_PLANES))
    server: ServerSettings = msgspec.field(default_factory=ServerSettings)
    database: DatabaseSettings = msgspec.field(default_factory=DatabaseSettings)
    state: StateSettings = msgspec.field(default_factory=StateSettings)
    logging: LoggingSettings = msgspec.field(default_factory=LoggingSettings)
    security: SecuritySettings = msgspec.field(default_factory=SecuritySettings)
    auth: AuthSettings = msgspec.field(default_factory=AuthSettings)
    remote: RemoteSettings = msgspec.field(default_factory=RemoteSettings)
    inference: InferenceSettings = msgspec.field(default_factory=InferenceSettings)
    # ``[[models]]`` tables; several with one name form one deployment with several endpoints.
    models: list[ModelEndpointSettings] = msgspec.field(default_factory=list)
    limits: LimitsSettings = msgspec.field(default_factory=LimitsSettings)
    # ``[pricing."model name"]`` (``"*"``: every other model), for cost budgets and usage.
    pricing: dict[str, ModelPriceSettings] = msgspec.field(default_factory=dict)
    usage: UsageSettings = msgspec.field(default_factory=UsageSettings)
    guardrails: GuardrailSettings = msgspec.field(default_factory=GuardrailSettings)

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
    "auth": AuthSettings,
    "remote": RemoteSettings,
    "inference": InferenceSettings,
    "limits": LimitsSettings,
    "usage": UsageSettings,
    "guardrails": GuardrailSettings,
}
TOP_LEVEL_KEYS = ("data_dir", "planes", "models")
SECRET_KEYS = frozenset(
    {
        "secret_key",
        "encryption_key",
        "api_key_pepper",
        "internal_token",
        "api_key",
        "previous_encryption_keys",
        "previous_api_key_peppers",
    }
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
    for index, model in enumerate(settings.models):
        if not model.name or not model.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"{source}: 'models[{index}]' needs a name and an http(s) base_url")
        if model.weight < 1:
            raise ConfigError(f"{source}: 'models[{index}].weight' must be >= 1")
    if settings.inference.max_retries < 0:
        raise ConfigError(f"{source}: 'inference.max_retries' must be >= 0")
    _validate_auth(settings.auth, source)
    if settings.guardrails.max_scan_chars < 1:
        raise ConfigError(f"{source}: 'guardrails.max_scan_chars' must be >= 1")
    _validate_limits(settings, source)


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
    if settings.usage.batch_size < 1 or settings.usage.flush_interval_ms < 1:
        raise ConfigError(
            f"{source}: 'usage.batch_size' and 'usage.flush_interval_ms' must be >= 1"
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
