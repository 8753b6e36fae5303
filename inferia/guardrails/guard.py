"""Applying a rule set to the text slots of one request or reply.

Blocks raise ``GuardrailBlocked`` (an OpenAI-style 400 naming the scanner and the
category, never the text); redactions rewrite the slots in place; every finding is
handed to ``record``. Texts beyond the scan limit are refused or scanned only up to
it, so a huge prompt costs bounded time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from inferia.core.errors import BadRequestError, PayloadTooLargeError
from inferia.guardrails.engine import RuleSet
from inferia.guardrails.findings import Direction, Finding
from inferia.guardrails.redaction import Redactor
from inferia.guardrails.texts import TextSlot

Recorder = Callable[[Finding, Direction, str], None]


class GuardrailBlocked(BadRequestError):
    code = "content_blocked"

    def __init__(self, finding: Finding, direction: Direction) -> None:
        what = "The request" if direction == "input" else "The model's reply"
        super().__init__(
            f"{what} was blocked by the guardrail policy: {finding.category} "
            f"({finding.scanner} scanner)."
        )
        self.finding = finding


@dataclass(frozen=True, slots=True)
class ScanLimits:
    max_scan_chars: int = 200_000
    oversize: Literal["refuse", "truncate"] = "refuse"
    # Total time one request's tenant patterns may take (``budget.ScanBudget``).
    pattern_budget_s: float = 0.1


async def guard_slots(
    rules: RuleSet,
    slots: Sequence[TextSlot],
    redactor: Redactor,
    *,
    direction: Direction,
    limits: ScanLimits,
    record: Recorder,
) -> None:
    if not rules or not slots:
        return
    budget = limits.max_scan_chars
    total = sum(len(slot.text) for slot in slots)
    if total > budget and limits.oversize == "refuse":
        raise PayloadTooLargeError(
            f"The {'request' if direction == 'input' else 'reply'} has {total} characters of "
            f"text; guardrails scan at most {budget} (guardrails.max_scan_chars)."
        )
    for slot in slots:
        text = slot.text
        if not text:
            continue
        if budget <= 0:
            record(
                Finding("guardrails", "not_scanned", "flag", 0, len(text), 1.0),
                direction,
                slot.where,
            )
            continue
        scanned = text[:budget]
        budget -= len(scanned)
        findings = rules.scan_inline(scanned)
        if rules.offloaded:
            findings += await rules.scan_offloaded(scanned)
        if len(scanned) < len(text):
            findings.append(
                Finding("guardrails", "not_scanned", "flag", len(scanned), len(text), 1.0)
            )
        for finding in findings:
            if finding.action == "block":
                record(finding, direction, slot.where)
                raise GuardrailBlocked(finding, direction)
        for finding in findings:
            record(finding, direction, slot.where)
        if any(f.action == "redact" for f in findings):
            slot.replace(redactor.apply(text, findings))
