"""The guardrail engine: builds scanners from policies and runs them over texts.

Inline scanners run on the calling thread (they are fast and linear); offloaded ones
(ML plugins) are awaited, each under the policy entry's fail mode. Scanner instances
are built once per distinct configuration and shared by every policy that uses it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from inferia.core.errors import ConfigError, ValidationError
from inferia.guardrails.findings import Action, Finding
from inferia.guardrails.normalize import normalise
from inferia.guardrails.policy import FailMode, GuardrailPolicy, PolicyEntry
from inferia.guardrails.scanner import (
    OffloadedScanner,
    Scanner,
    ScannerFactory,
    ScannerSetup,
    ScannerUnavailable,
)
from inferia.guardrails.scanners.tail import TokenTailScanner, token_tail

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Rule:
    """A policy entry bound to its scanner instance."""

    scanner: Scanner | OffloadedScanner
    action: Action
    threshold: float
    categories: frozenset[str]
    fail_mode: FailMode

    def accepts(self, category: str, score: float) -> bool:
        return score >= self.threshold and (not self.categories or category in self.categories)


class RuleSet:
    """The rules of one direction (input or output) of one policy."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        # (rule, scanner) pairs, typed once here: isinstance on a Protocol is slow.
        self.inline: tuple[tuple[Rule, Scanner], ...] = tuple(
            (r, r.scanner) for r in rules if isinstance(r.scanner, Scanner)
        )
        self.offloaded: tuple[tuple[Rule, OffloadedScanner], ...] = tuple(
            (r, r.scanner) for r in rules if not isinstance(r.scanner, Scanner)
        )
        scanners = tuple({id(s): s for _, s in self.inline}.values())
        # Scanners whose hold-back is the shared token-tail rule are asked once, with
        # the largest limit among them (the per-event cost of a stream).
        token_scanners = [s for s in scanners if isinstance(s, TokenTailScanner)]
        self._token_tail_limit = max((s.max_match_chars for s in token_scanners), default=0)
        self._inline_scanners = tuple(s for s in scanners if s not in token_scanners)
        # Characters a stream must hold back so no inline match is split unseen.
        self.window = max((s.max_match_chars for s in scanners), default=0)

    def __bool__(self) -> bool:
        return bool(self.inline or self.offloaded)

    def scan_inline(self, text: str) -> list[Finding]:
        if not self.inline or not text:
            return []
        normalised = normalise(text)
        findings: list[Finding] = []
        for rule, scanner in self.inline:
            for detection in scanner.scan(normalised.text):
                if rule.accepts(detection.category, detection.score):
                    start, end = normalised.to_original(detection.start, detection.end)
                    findings.append(
                        Finding(
                            scanner.name,
                            detection.category,
                            rule.action,
                            start,
                            end,
                            detection.score,
                        )
                    )
        return findings

    async def scan_offloaded(self, text: str) -> list[Finding]:
        findings: list[Finding] = []
        for rule, scanner in self.offloaded:
            try:
                detections = await scanner.scan_async(text)
            except ScannerUnavailable as exc:
                log.warning("guardrail scanner %s unavailable: %s", scanner.name, exc)
                action: Action = "block" if rule.fail_mode == "closed" else "flag"
                findings.append(Finding(scanner.name, "unavailable", action, 0, 0, 1.0))
                continue
            for detection in detections:
                if rule.accepts(detection.category, detection.score):
                    findings.append(
                        Finding(
                            scanner.name,
                            detection.category,
                            rule.action,
                            detection.start,
                            detection.end,
                            detection.score,
                        )
                    )
        return findings

    def hold_back(self, text: str) -> int:
        """How many trailing characters of a stream buffer must wait for more text."""
        hold = token_tail(text, self._token_tail_limit) if self._token_tail_limit else 0
        for scanner in self._inline_scanners:
            hold = max(hold, scanner.hold_back(text))
        return min(hold, len(text))


class CompiledPolicy:
    def __init__(self, policy: GuardrailPolicy, input: RuleSet, output: RuleSet) -> None:
        self.policy = policy
        self.input = input
        self.output = output


class GuardrailEngine:
    def __init__(
        self,
        factories: Mapping[str, ScannerFactory],
        scanner_settings: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self._factories = dict(factories)
        self._settings = dict(scanner_settings or {})
        self._scanners: dict[bytes, Scanner | OffloadedScanner] = {}
        self._compiled: dict[bytes, CompiledPolicy] = {}

    @property
    def scanner_names(self) -> list[str]:
        return sorted(self._factories)

    def compile(self, policy: GuardrailPolicy) -> CompiledPolicy:
        """The runnable form of a policy; cached, so a snapshot refresh is cheap.
        Raises ValidationError for unknown scanners or invalid options."""
        key = msgspec.json.encode(policy)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = CompiledPolicy(
                policy,
                RuleSet([self._rule(e, "input") for e in policy.input]),
                RuleSet([self._rule(e, "output") for e in policy.output]),
            )
            if len(self._compiled) > 10_000:
                self._compiled.clear()
            self._compiled[key] = compiled
        return compiled

    def validate(self, policy: GuardrailPolicy) -> None:
        self.compile(policy)

    def _rule(self, entry: PolicyEntry, direction: str) -> Rule:
        factory = self._factories.get(entry.scanner)
        if factory is None:
            raise ValidationError(
                f"unknown guardrail scanner '{entry.scanner}' in {direction}; installed: "
                + ", ".join(self.scanner_names),
                param=f"{direction}.scanner",
            )
        options = entry.scanner_options()
        key = msgspec.json.encode([entry.scanner, options])
        scanner = self._scanners.get(key)
        if scanner is None:
            setup = ScannerSetup(entry.scanner, options, self._settings.get(entry.scanner, {}))
            try:
                scanner = factory(setup)
            except (ValidationError, ConfigError):
                raise
            except (TypeError, ValueError) as exc:
                raise ValidationError(
                    f"invalid options for guardrail scanner '{entry.scanner}': {exc}",
                    param=f"{direction}.options",
                ) from None
            self._scanners[key] = scanner
        unknown = set(entry.categories) - set(scanner.categories)
        if unknown and scanner.categories:
            raise ValidationError(
                f"scanner '{entry.scanner}' has no categories {sorted(unknown)}; it reports "
                + ", ".join(sorted(scanner.categories)),
                param=f"{direction}.categories",
            )
        if entry.threshold is not None and not 0.0 <= entry.threshold <= 1.0:
            raise ValidationError("threshold must be between 0 and 1", param="threshold")
        return Rule(
            scanner=scanner,
            action=entry.action,
            threshold=entry.threshold or 0.0,
            categories=frozenset(entry.categories),
            fail_mode=entry.fail_mode,
        )

    async def close(self) -> None:
        for scanner in self._scanners.values():
            if isinstance(scanner, OffloadedScanner):
                try:
                    await scanner.close()
                except Exception:
                    log.exception("closing guardrail scanner %s failed", scanner.name)
