"""Secrets: provider API keys and tokens, private keys, JWTs, high-entropy strings.

Known formats are matched by their documented prefixes and lengths. The high-entropy
check is a tripwire for unknown formats: a 24+ character run of base64/hex alphabet
that mixes upper case, lower case and digits with enough Shannon entropy.
"""

from __future__ import annotations

import re

from inferia.guardrails.checks import shannon_entropy
from inferia.guardrails.findings import Detection
from inferia.guardrails.scanner import ScannerSetup
from inferia.guardrails.scanners.tail import TokenTailScanner
from inferia.guardrails.spans import SpanSet

# (category, pattern); each is anchored on a distinctive prefix.
_KNOWN = (
    ("aws_access_key", r"(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}"),
    ("github_token", r"gh[pousr]_[A-Za-z0-9]{36,251}+|github_pat_[A-Za-z0-9_]{22,255}+"),
    ("gitlab_token", r"glpat-[A-Za-z0-9_-]{20,200}+"),
    ("anthropic_key", r"sk-ant-[A-Za-z0-9_-]{20,200}+"),
    ("inferia_key", r"sk-inf-[A-Za-z0-9_-]{20,200}+"),
    ("openai_key", r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,200}+"),
    ("stripe_key", r"(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,200}+"),
    ("slack_token", r"xox[abposr]-[A-Za-z0-9-]{10,200}+"),
    ("google_api_key", r"AIza[0-9A-Za-z_-]{35}"),
    ("huggingface_token", r"hf_[A-Za-z0-9]{30,60}+"),
    (
        "jwt",
        r"eyJ[A-Za-z0-9_-]{8,300}+\.eyJ[A-Za-z0-9_-]{8,1000}+\.[A-Za-z0-9_-]{0,600}+",
    ),
    ("private_key", r"-----BEGIN [A-Z ]{0,20}PRIVATE KEY(?: BLOCK)?-----"),
)
# One regex per format, with possessive repetitions (no backtracking). Each starts with
# a literal prefix, which the regex engine finds with a fast substring search; one
# alternation of all of them is ~50x slower.
_KNOWN_RES = tuple(
    (category, re.compile(f"(?:{pattern})(?![A-Za-z0-9_-])")) for category, pattern in _KNOWN
)
# Substrings every match of a format contains: a plain ``in`` test skips the regex call
# for the (usual) text that holds none, which matters for short stream windows.
_GUARDS: dict[str, tuple[str, ...]] = {
    "aws_access_key": ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA"),
    "github_token": ("gh", "github_pat_"),
    "gitlab_token": ("glpat-",),
    "anthropic_key": ("sk-ant-",),
    "inferia_key": ("sk-inf-",),
    "openai_key": ("sk-",),
    "stripe_key": ("_live_", "_test_"),
    "slack_token": ("xox",),
    "google_api_key": ("AIza",),
    "huggingface_token": ("hf_",),
    "jwt": ("eyJ",),
    "private_key": ("PRIVATE KEY",),
}
_GUARDED = tuple((category, _GUARDS[category], pattern) for category, pattern in _KNOWN_RES)
# One search for any guard at all: most texts hold none, and then no format can match.
_ANY_GUARD = re.compile("|".join(re.escape(g) for gs in _GUARDS.values() for g in gs))
_PEM_HEADER = re.compile(r"-----BEGIN [A-Z ]{0,20}PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = re.compile(r"-----END [A-Z ]{0,20}PRIVATE KEY(?: BLOCK)?-----")
_PEM_MAX_BODY = 12_000
_MIN_RUN = 24
_RUN = re.compile(r"(?<![A-Za-z0-9+/_=-])[A-Za-z0-9+/_=-]{24,256}+")
_UPPER = re.compile(r"[A-Z]")
_LOWER = re.compile(r"[a-z]")
_DIGIT = re.compile(r"\d")
_PEM_MARK = "PRIVATE KEY"
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")

CATEGORIES = frozenset({category for category, _ in _KNOWN} | {"high_entropy"})
DEFAULT_MIN_ENTROPY = 4.0


# Its stream hold-back is the token-tail rule: tokens hold no spaces; a PEM body arrives
# as base64 lines caught one by one.
class SecretsScanner(TokenTailScanner):
    name = "secrets"
    categories = CATEGORIES
    # The longest bounded known pattern (a JWT) caps what a stream must hold back.
    max_match_chars = 1920

    def __init__(self, min_entropy: float = DEFAULT_MIN_ENTROPY) -> None:
        self._min_entropy = min_entropy

    def scan(self, text: str) -> list[Detection]:
        found: list[Detection] = []
        taken = SpanSet()
        if _PEM_MARK in text:
            for block in _pem_blocks(text):
                taken.add(block.start, block.end)
                found.append(block)
        for category, guards, pattern in _GUARDED if _ANY_GUARD.search(text) else ():
            for guard in guards:
                if guard in text:
                    break
            else:
                continue
            for m in pattern.finditer(text):
                start = m.start()
                # Left boundary checked here: a lookbehind would defeat the prefix search.
                if start and text[start - 1] in _TOKEN_CHARS:
                    continue
                if taken.add(start, m.end()):
                    found.append(Detection(category, start, m.end()))
        if len(text) < _MIN_RUN:
            return found
        for m in _RUN.finditer(text):
            start, end = m.span()
            candidate = m.group()
            if (
                _UPPER.search(candidate)
                and _LOWER.search(candidate)
                and _DIGIT.search(candidate)
                and not taken.overlaps(start, end)
            ):
                entropy = shannon_entropy(candidate)
                if entropy >= self._min_entropy:
                    taken.add(start, end)
                    found.append(Detection("high_entropy", start, end, min(1.0, entropy / 6)))
        return found


def _pem_blocks(text: str) -> list[Detection]:
    """Whole PEM private-key blocks (header to footer), each found in bounded time."""
    blocks: list[Detection] = []
    position = 0
    while (header := _PEM_HEADER.search(text, position)) is not None:
        footer = _PEM_END.search(text, header.end(), header.end() + _PEM_MAX_BODY + 40)
        if footer is None:
            position = header.end()
            continue
        blocks.append(Detection("private_key", header.start(), footer.end()))
        position = footer.end()
    return blocks


def create(setup: ScannerSetup) -> SecretsScanner:
    min_entropy = setup.options.get("min_entropy", DEFAULT_MIN_ENTROPY)
    return SecretsScanner(float(min_entropy))
