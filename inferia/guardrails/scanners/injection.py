"""Prompt-injection and jailbreak heuristics: a tripwire, not a classifier.

Known phrasings of instruction overrides, role-play jailbreaks, system-prompt
extraction, chat-template role markers smuggled into content, and base64 payloads that
decode to any of these. Rephrasing defeats it; it catches the copy-pasted attacks that
make up most of what is seen in practice. Scores are fixed per pattern family.
"""

from __future__ import annotations

import base64
import binascii
import re

from inferia.guardrails.findings import Detection
from inferia.guardrails.scanner import BaseScanner, ScannerSetup
from inferia.guardrails.scanners.wording import fold_leet

_S = r"[\s_*.-]{1,4}"  # between words: bounded, so no backtracking blow-up
_ANY = r"(?:all|any|the|your|my|these|those|every)"
_BEFORE = r"(?:previous|prior|above|earlier|preceding|original|initial|system|old)"
_RULES = r"(?:instructions?|prompts?|rules|directions|guidelines|context|messages?|constraints)"

# (category, score, trigger words, pattern). Texts are lower-cased and leet-folded
# first; a family's regex runs only when one of its trigger words occurs, which keeps
# ordinary prompts at a few substring searches. Every match contains a trigger word.
_FAMILIES: tuple[tuple[str, float, tuple[str, ...], str], ...] = (
    (
        "instruction_override",
        0.9,
        ("ignor", "disregard", "forget", "overrid", "bypass", "skip", "drop"),
        rf"\b(?:ignore|disregard|forget|override|bypass|skip|drop)(?:{_S}{_ANY})?"
        rf"(?:{_S}(?:of{_S})?(?:the|your))?{_S}{_BEFORE}{_S}{_RULES}\b",
    ),
    (
        "instruction_override",
        0.9,
        ("instruction",),
        rf"\bnew{_S}(?:system{_S})?instructions?(?:{_S})?:",
    ),
    (
        "instruction_override",
        0.9,
        ("obey", "follow", "ignor"),
        rf"\bfrom{_S}now{_S}on{_S}you{_S}(?:will|must|are){_S}(?:only{_S})?(?:obey|follow|ignore)\b",
    ),
    (
        "role_play",
        0.8,
        ("dan", "unfiltered", "uncensored", "unrestricted", "jailbr", "evil", "developer"),
        rf"\b(?:you{_S}are{_S}now|act{_S}as|pretend{_S}(?:to{_S}be|you{_S}are)|roleplay{_S}as)"
        rf"{_S}(?:an?{_S})?(?:dan|unfiltered|uncensored|unrestricted|jailbroken|evil|developer{_S}mode)\b",
    ),
    (
        "role_play",
        0.8,
        ("anything", "developer", "jailbreak"),
        rf"\bdo{_S}anything{_S}now\b|\bdeveloper{_S}mode{_S}(?:enabled|on)\b"
        rf"|\bjailbreak(?:ed|ing)?\b",
    ),
    (
        "role_play",
        0.8,
        ("ethical", "moral", "safety", "content"),
        rf"\b(?:without|no){_S}(?:any{_S})?(?:ethical|moral|safety|content){_S}"
        rf"(?:guidelines|restrictions|filters|limits|policies)\b",
    ),
    (
        "prompt_leak",
        0.7,
        ("prompt", "instruction", "message"),
        rf"\b(?:reveal|print|show|repeat|output|tell{_S}me|display|leak)(?:{_S}me)?{_S}"
        rf"(?:{_ANY}{_S})?(?:hidden{_S}|secret{_S}|full{_S})?(?:system|initial|original|hidden)"
        rf"{_S}(?:prompt|instructions?|message)\b",
    ),
    (
        "role_marker",
        0.6,
        ("<|", "[inst", "[/inst", "<<sys", "#"),
        r"<\|im_start\|>\s{0,3}system|<\|(?:system|start_header_id)\|>|\[/?inst\]"
        r"|<<sys>>|^\s{0,3}#{2,4}\s{0,3}(?:system|instruction)s?\s{0,3}:?\s{0,3}$",
    ),
)
_COMPILED = tuple(
    (category, score, triggers, re.compile(pattern, re.MULTILINE))
    for category, score, triggers, pattern in _FAMILIES
)
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{24,4096}={0,2}")
_BASE64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")

CATEGORIES = frozenset(f[0] for f in _FAMILIES) | {"encoded_instructions"}


class InjectionScanner(BaseScanner):
    name = "injection"
    categories = CATEGORIES
    max_match_chars = 200

    def scan(self, text: str) -> list[Detection]:
        found = _phrases(_prepare(text))
        for m in _BASE64_RUN.finditer(text):
            if m.start() and text[m.start() - 1] in _BASE64_CHARS:
                continue
            decoded = _decode(m.group())
            if decoded and _phrases(_prepare(decoded)):
                found.append(Detection("encoded_instructions", m.start(), m.end(), 0.9))
        return found


def _prepare(text: str) -> str:
    lowered = fold_leet(text).lower()
    # A few characters lower-case to two (U+0130): keep offsets by lowering one by one.
    if len(lowered) != len(text):
        lowered = "".join(c.lower()[:1] or c for c in fold_leet(text))
    return lowered


def _phrases(text: str) -> list[Detection]:
    found: list[Detection] = []
    for category, score, triggers, pattern in _COMPILED:
        if any(trigger in text for trigger in triggers):
            found += [
                Detection(category, m.start(), m.end(), score) for m in pattern.finditer(text)
            ]
    return found


def _decode(candidate: str) -> str | None:
    try:
        raw = base64.b64decode(candidate + "=" * (-len(candidate) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    text = raw.decode("utf-8", errors="ignore")
    # Only text is interesting: random bytes decode to mostly unprintable characters.
    printable = sum(c.isprintable() or c.isspace() for c in text)
    return text if text and printable >= 0.9 * len(text) else None


def create(setup: ScannerSetup) -> InjectionScanner:
    return InjectionScanner()
