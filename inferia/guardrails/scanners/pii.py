"""PII: e-mail addresses, phone numbers, payment cards (Luhn), IBANs (mod-97), US SSNs,
IPv4/IPv6 addresses.

Regexes find candidates; checksums and structure rules keep false positives down.
Every pattern is linear: bounded repetitions, lookbehinds that allow a match to start
only at a token boundary, no nested unbounded quantifiers.
"""

from __future__ import annotations

import ipaddress
import re

from inferia.guardrails.checks import digits_of, iban_valid, luhn_valid, ssn_valid
from inferia.guardrails.findings import Detection
from inferia.guardrails.scanner import ScannerSetup
from inferia.guardrails.scanners.tail import TokenTailScanner
from inferia.guardrails.spans import SpanSet

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,40}[A-Za-z0-9])?\.){1,4}[A-Za-z]{2,18}(?![\w-])"
)
# 13-19 digits, or 4-4-4-4(-3) / 4-6-5 groups with one consistent separator: groups
# keep two cards written side by side from merging into one invalid number.
_CARD = re.compile(
    r"(?<![\d-])(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{1,4}(?:\1\d{1,3})?"
    r"|\d{4}([ -])\d{6}\2\d{4,5})(?![\d])"
)
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])")
_SSN = re.compile(r"(?<![\d-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\d-])")
_PHONE = re.compile(
    # +CC then 2-5 groups, or the North American (555) 123-4567 / 555-123-4567 forms.
    r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,5}\)?){2,5}(?![\d])"
    r"|(?<![\w(])(?:\(\d{3}\) ?|\d{3}[-. ])\d{3}[-. ]\d{4}(?![\d])"
)
_IPV4 = re.compile(
    r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}"
    r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\.?\d)"
)
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_DIGIT = re.compile(r"\d")

CATEGORIES = frozenset({"email", "phone", "credit_card", "iban", "ssn", "ip_address"})


class PiiScanner(TokenTailScanner):
    name = "pii"
    categories = CATEGORIES
    # The longest e-mail the pattern accepts: 64 + 1 + 4 * 43 + 18.
    max_match_chars = 256

    def scan(self, text: str) -> list[Detection]:
        found: list[Detection] = []
        taken = SpanSet()
        if "@" in text:
            for m in _EMAIL.finditer(text):
                taken.add(m.start(), m.end())
                found.append(Detection("email", m.start(), m.end()))
        if _DIGIT.search(text) is None:
            return found
        # Most specific first; a later kind never reports inside an earlier one's span.
        for detection in (
            *self._cards(text),
            *self._ibans(text),
            *self._ssns(text),
            *self._ips(text),
            *self._phones(text),
        ):
            if taken.add(detection.start, detection.end):
                found.append(detection)
        return found

    @staticmethod
    def _cards(text: str) -> list[Detection]:
        return [
            Detection("credit_card", m.start(), m.end())
            for m in _CARD.finditer(text)
            if luhn_valid(digits_of(m.group()))
        ]

    @staticmethod
    def _ibans(text: str) -> list[Detection]:
        return [
            Detection("iban", m.start(), m.end())
            for m in _IBAN.finditer(text)
            if iban_valid(m.group())
        ]

    @staticmethod
    def _ssns(text: str) -> list[Detection]:
        return [
            Detection("ssn", m.start(), m.end())
            for m in _SSN.finditer(text)
            if ssn_valid(m.group(1), m.group(3), m.group(4))
        ]

    @staticmethod
    def _ips(text: str) -> list[Detection]:
        found = [Detection("ip_address", m.start(), m.end()) for m in _IPV4.finditer(text)]
        if ":" in text:
            for m in _IPV6.finditer(text):
                # At least three groups: "::2" in a slice is code, not an address.
                if sum(1 for group in m.group().split(":") if group) < 3:
                    continue
                try:
                    ipaddress.IPv6Address(m.group())
                except ValueError:
                    continue
                found.append(Detection("ip_address", m.start(), m.end()))
        return found

    @staticmethod
    def _phones(text: str) -> list[Detection]:
        return [
            Detection("phone", m.start(), m.end())
            for m in _PHONE.finditer(text)
            if 8 <= len(digits_of(m.group())) <= 15
        ]


def create(setup: ScannerSetup) -> PiiScanner:
    return PiiScanner()
