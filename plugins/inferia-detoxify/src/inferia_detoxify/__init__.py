"""The detoxify guardrail scanner plugin (entry point ``inferia.guardrails: detoxify``)."""

from inferia_detoxify.scanner import DetoxifyScanner, DetoxifySetupError, create

__all__ = ["DetoxifyScanner", "DetoxifySetupError", "create"]
