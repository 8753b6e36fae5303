"""Typed settings: inferia.toml + INFERIA_* environment -> frozen msgspec Structs.

``sections`` is the schema (one Struct per section, with defaults); ``loader`` reads
the file and the environment, reports bad keys by name, and masks secrets for display.
``limits`` and ``guardrails`` hold the Structs the settings share with the libraries of
those names (one declaration each).
"""

from inferia.config.guardrails import FailMode, GuardrailAction, PolicyEntry
from inferia.config.knowledge import KnowledgeSettings
from inferia.config.limits import NO_LIMITS, LimitValues, ModelPrice
from inferia.config.loader import (
    ENV_PREFIX,
    SECRET_KEYS,
    SECTIONS,
    SETTINGS_ENV,
    TOP_LEVEL_KEYS,
    default_config_path,
    load_settings,
    masked,
    replace_section,
    settings_from_env,
)
from inferia.config.sections import (
    ALL_PLANES,
    PLANE_DEFAULT_PORTS,
    AuthSettings,
    DatabaseSettings,
    DetoxifySettings,
    FallbackClass,
    GuardrailSettings,
    InferenceSettings,
    LimitsSettings,
    LoggingSettings,
    MetricsSettings,
    ModelEndpointSettings,
    OrchestrationSettings,
    PlaneName,
    RemoteSettings,
    RoutingStrategy,
    SecuritySettings,
    ServerSettings,
    Settings,
    StateErrorMode,
    StateSettings,
    TemplateSettings,
    UsageSettings,
    default_data_dir,
)

__all__ = [
    "ALL_PLANES",
    "ENV_PREFIX",
    "NO_LIMITS",
    "PLANE_DEFAULT_PORTS",
    "SECRET_KEYS",
    "SECTIONS",
    "SETTINGS_ENV",
    "TOP_LEVEL_KEYS",
    "AuthSettings",
    "DatabaseSettings",
    "DetoxifySettings",
    "FailMode",
    "FallbackClass",
    "GuardrailAction",
    "GuardrailSettings",
    "InferenceSettings",
    "KnowledgeSettings",
    "LimitValues",
    "LimitsSettings",
    "LoggingSettings",
    "MetricsSettings",
    "ModelEndpointSettings",
    "ModelPrice",
    "OrchestrationSettings",
    "PlaneName",
    "PolicyEntry",
    "RemoteSettings",
    "RoutingStrategy",
    "SecuritySettings",
    "ServerSettings",
    "Settings",
    "StateErrorMode",
    "StateSettings",
    "TemplateSettings",
    "UsageSettings",
    "default_config_path",
    "default_data_dir",
    "load_settings",
    "masked",
    "replace_section",
    "settings_from_env",
]
