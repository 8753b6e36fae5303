"""The guardrail engine: a pure library the inference plane runs in process.

Scanners (built-in and plugins, all discovered through the ``inferia.guardrails``
entry point group), text normalisation, the policy model, redaction, streaming
windows. Policies themselves are definitions owned by the filtration plane and reach
the inference plane as cached snapshots.
"""

from inferia.guardrails.budget import ScanBudget, current_scan_budget, start_scan_budget
from inferia.guardrails.engine import CompiledPolicy, GuardrailEngine, Rule, RuleSet
from inferia.guardrails.events import GuardrailEventSink
from inferia.guardrails.findings import ACTIONS, Action, Detection, Direction, Finding
from inferia.guardrails.guard import GuardrailBlocked, Recorder, ScanLimits, guard_slots
from inferia.guardrails.normalize import Normalised, normalise
from inferia.guardrails.policy import GuardrailPolicy, PolicyEntry, policy_from_builtins
from inferia.guardrails.redaction import Redactor
from inferia.guardrails.scanner import (
    ENTRY_POINT_GROUP,
    BaseScanner,
    OffloadedScanner,
    Scanner,
    ScannerFactory,
    ScannerSetup,
    ScannerUnavailable,
    discover_factories,
)
from inferia.guardrails.setup import build_engine, platform_policy, scan_limits
from inferia.guardrails.stream import BlockedText, StreamWindow
from inferia.guardrails.texts import TextSlot, reply_slots, request_slots

__all__ = [
    "ACTIONS",
    "ENTRY_POINT_GROUP",
    "Action",
    "BaseScanner",
    "BlockedText",
    "CompiledPolicy",
    "Detection",
    "Direction",
    "Finding",
    "GuardrailBlocked",
    "GuardrailEngine",
    "GuardrailEventSink",
    "GuardrailPolicy",
    "Normalised",
    "OffloadedScanner",
    "PolicyEntry",
    "Recorder",
    "Redactor",
    "Rule",
    "RuleSet",
    "ScanBudget",
    "ScanLimits",
    "Scanner",
    "ScannerFactory",
    "ScannerSetup",
    "ScannerUnavailable",
    "StreamWindow",
    "TextSlot",
    "build_engine",
    "current_scan_budget",
    "discover_factories",
    "guard_slots",
    "normalise",
    "platform_policy",
    "policy_from_builtins",
    "reply_slots",
    "request_slots",
    "scan_limits",
    "start_scan_budget",
]
