"""Building the engine, the platform default policy and the scan limits from settings."""

from __future__ import annotations

import msgspec

from inferia.config import GuardrailSettings
from inferia.core.errors import ConfigError, ValidationError
from inferia.guardrails.engine import GuardrailEngine
from inferia.guardrails.guard import ScanLimits
from inferia.guardrails.policy import GuardrailPolicy
from inferia.guardrails.scanner import discover_factories


def build_engine(settings: GuardrailSettings) -> GuardrailEngine:
    return GuardrailEngine(
        discover_factories(), {"detoxify": msgspec.to_builtins(settings.detoxify)}
    )


def platform_policy(settings: GuardrailSettings, engine: GuardrailEngine) -> GuardrailPolicy:
    """``[guardrails]`` as a policy, compiled once so a typo stops start-up."""
    # The settings' entries are the policy's own Struct (inferia/config/guardrails.py).
    policy = GuardrailPolicy(input=list(settings.input), output=list(settings.output))
    try:
        engine.compile(policy)
    except ValidationError as exc:
        raise ConfigError(f"[guardrails]: {exc.message}") from None
    return policy


def scan_limits(settings: GuardrailSettings) -> ScanLimits:
    return ScanLimits(
        settings.max_scan_chars, settings.oversize, settings.pattern_budget_ms / 1000
    )
