"""How much of a stream's tail could still grow into a token-like match."""

from __future__ import annotations

from inferia.guardrails.scanner import BaseScanner

# Characters that can be part of an e-mail, card, phone, IBAN, IP address or token.
TOKEN_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@._%+-/=:()#"
)
# Separators allowed inside one match between digit groups ("4111 1111", "(555) 123").
_GROUP_SEPARATORS = frozenset(" \t")
_GROUP_NEIGHBOURS = frozenset("0123456789()+ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def token_tail(text: str, limit: int) -> int:
    """Length of the trailing run that a token-like pattern could still extend: token
    characters, plus single spaces between digit groups. At most ``limit``."""
    length = len(text)
    index = length
    floor = max(0, length - limit)
    while index > floor:
        char = text[index - 1]
        if char in TOKEN_CHARS or (
            char in _GROUP_SEPARATORS
            and index >= 2
            and text[index - 2] in _GROUP_NEIGHBOURS
            and (index == length or text[index] in _GROUP_NEIGHBOURS)
        ):
            index -= 1
        else:
            break
    return length - index


class TokenTailScanner(BaseScanner):
    """An inline scanner whose matches are token-like (no spaces but between digit
    groups): its stream hold-back is ``token_tail``. A RuleSet asks that rule once for
    all such scanners, with the largest ``max_match_chars`` among them."""

    def hold_back(self, text: str) -> int:
        return token_tail(text, self.max_match_chars)
