"""The settings schema: one frozen msgspec Struct per inferia.toml section.

Every key has its default here, and inferia.toml lists each with a one-line comment
(a test keeps the two equal). Unknown keys are errors (``forbid_unknown_fields``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import msgspec
import platformdirs

from inferia.config.guardrails import PolicyEntry
from inferia.config.knowledge import KnowledgeSettings
from inferia.config.limits import NO_LIMITS, LimitValues, ModelPrice

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
    # PEM files: TLS on the gRPC port when both are set.
    grpc_tls_cert: str = ""
    grpc_tls_key: str = ""
    max_body_bytes: int = 4 * 1024 * 1024
    drain_timeout_s: float = 30.0
    # A client must send a request's whole header within this time, else its connection
    # is closed (slow-loris clients; granian's HTTP/1 header_read_timeout).
    header_read_timeout_s: float = 30.0
    # And its body (the /v1 routes) within this time once the header is in, else a 408.
    body_read_timeout_s: float = 30.0
    # Reverse proxies (addresses or networks) whose X-Forwarded-For is believed.
    trusted_proxies: list[str] = msgspec.field(default_factory=list)
    # Browser origins ("https://app.example.com", or "*") allowed to call /v1/* (CORS).
    cors_origins: list[str] = msgspec.field(default_factory=list)
    # `inferia serve --demo`: serve the built-in echo model "demo-echo" (config/demo.py).
    demo: bool = False


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


class MetricsSettings(_Section, frozen=True):
    # What a scraper of GET /metrics sends as "Authorization: Bearer ..."; empty: only
    # clients on the loopback interface may read /metrics.
    scrape_token: str = ""


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
    # Limits of every API key without a policy of its own (0: no limit); a limit left
    # out is 0 (the loader fills it in).
    key_defaults: LimitValues = msgspec.field(default_factory=lambda: NO_LIMITS)


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
    # Usage events a gateway process keeps in memory while the state backend cannot
    # take them (an outage); past it the oldest are dropped (and counted).
    backlog_max_events: int = 100_000


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

    input: list[PolicyEntry] = msgspec.field(
        default_factory=lambda: [
            PolicyEntry(scanner="secrets", action="redact"),
            PolicyEntry(scanner="pii", action="redact"),
            PolicyEntry(scanner="injection", action="flag"),
        ]
    )
    output: list[PolicyEntry] = msgspec.field(
        default_factory=lambda: [
            PolicyEntry(scanner="secrets", action="redact"),
            PolicyEntry(scanner="pii", action="redact"),
        ]
    )
    # Characters of one request's text that are scanned; beyond it "refuse" (413) or
    # "truncate" (scan only the first max_scan_chars, and record that).
    max_scan_chars: int = 200_000
    oversize: Literal["refuse", "truncate"] = "refuse"
    # Time one request's deny-list patterns (tenant regexes) may take in total, all
    # scans of its input and output together; past it they count as timed out.
    pattern_budget_ms: float = 100.0
    # Backstop refresh of cached per-organisation policies (changes are also pushed).
    policy_cache_ttl_s: float = 60.0
    detoxify: DetoxifySettings = msgspec.field(default_factory=DetoxifySettings)


class TemplateSettings(_Section, frozen=True):
    """Prompt templates: the bounds of one render, and the per-organisation cache."""

    # Characters of one render's output, all messages together; also the bound on any
    # string or list a template builds.
    max_output_chars: int = 65_536
    max_loop_iterations: int = 10_000
    render_timeout_ms: float = 100.0
    # Backstop refresh of cached per-organisation templates (changes are also pushed).
    cache_ttl_s: float = 60.0


class RemoteSettings(_Section, frozen=True):
    filtration_url: str = "http://127.0.0.1:8000"
    inference_url: str = "http://127.0.0.1:8001"
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


class OrchestrationSettings(_Section, frozen=True):
    """The control plane's reconciler and compute adapters (docs/orchestration.md)."""

    reconcile_interval_s: float = 2.0
    # A replica not ready this long after it was provisioned fails its deployment.
    readiness_timeout_s: float = 300.0
    readiness_probe_timeout_s: float = 2.0
    # The reconciler lease: renewed every third of its life; a dead leader's lapses.
    lease_ttl_s: float = 10.0
    # A replica leaving routing (terminate, scale down) keeps serving the requests it
    # has this long before it is stopped.
    drain_s: float = 5.0
    # Model servers get SIGTERM, then SIGKILL after this.
    stop_grace_s: float = 10.0
    restart_backoff_s: float = 1.0
    restart_backoff_max_s: float = 30.0
    # Inventory: a node silent this long is UNKNOWN; silent node_lost_after_s, LOST
    # (its replicas are replaced).
    heartbeat_timeout_s: float = 30.0
    node_lost_after_s: float = 90.0


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
    metrics: MetricsSettings = msgspec.field(default_factory=MetricsSettings)
    security: SecuritySettings = msgspec.field(default_factory=SecuritySettings)
    auth: AuthSettings = msgspec.field(default_factory=AuthSettings)
    remote: RemoteSettings = msgspec.field(default_factory=RemoteSettings)
    inference: InferenceSettings = msgspec.field(default_factory=InferenceSettings)
    # ``[[models]]`` tables; several with one name form one deployment with several endpoints.
    models: list[ModelEndpointSettings] = msgspec.field(default_factory=list)
    limits: LimitsSettings = msgspec.field(default_factory=LimitsSettings)
    # ``[pricing."model name"]`` (``"*"``: every other model), for cost budgets and usage.
    pricing: dict[str, ModelPrice] = msgspec.field(default_factory=dict)
    usage: UsageSettings = msgspec.field(default_factory=UsageSettings)
    guardrails: GuardrailSettings = msgspec.field(default_factory=GuardrailSettings)
    templates: TemplateSettings = msgspec.field(default_factory=TemplateSettings)
    orchestration: OrchestrationSettings = msgspec.field(default_factory=OrchestrationSettings)
    knowledge: KnowledgeSettings = msgspec.field(default_factory=KnowledgeSettings)

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


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("inferia", appauthor=False))
