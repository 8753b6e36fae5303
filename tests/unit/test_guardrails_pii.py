"""PII scanner: fixed fixtures of valid and invalid numbers, spans and placeholders."""

from __future__ import annotations

import pytest

from inferia.guardrails.checks import iban_valid, luhn_valid, ssn_valid
from tests.unit.guardrails_support import categories, redact_all


@pytest.mark.parametrize(
    "number",
    [
        "4111111111111111",
        "5500005555555559",
        "378282246310005",
        "6011111111111117",
        "4012888888881881",
    ],
)
def test_luhn_accepts_valid_card_numbers(number: str) -> None:
    assert luhn_valid(number)


@pytest.mark.parametrize("number", ["4111111111111112", "5500005555555550", "378282246310006"])
def test_luhn_rejects_invalid_card_numbers(number: str) -> None:
    assert not luhn_valid(number)


@pytest.mark.parametrize(
    "iban",
    [
        "GB82 WEST 1234 5698 7654 32",
        "DE89370400440532013000",
        "FR1420041010050500013M02606",
        "NL91ABNA0417164300",
    ],
)
def test_iban_mod97_accepts_valid_ibans(iban: str) -> None:
    assert iban_valid(iban)


@pytest.mark.parametrize(
    "iban",
    ["GB82 WEST 1234 5698 7654 33", "DE89370400440532013001", "DE8937040044053201300", "XX00"],
)
def test_iban_mod97_rejects_invalid_ibans(iban: str) -> None:
    assert not iban_valid(iban)


@pytest.mark.parametrize(
    ("area", "group", "serial", "valid"),
    [
        ("123", "45", "6789", True),
        ("000", "45", "6789", False),
        ("666", "45", "6789", False),
        ("900", "45", "6789", False),
        ("123", "00", "6789", False),
        ("123", "45", "0000", False),
    ],
)
def test_ssn_structure(area: str, group: str, serial: str, valid: bool) -> None:
    assert ssn_valid(area, group, serial) is valid


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail me at jane.doe+x@mail.example.co.uk today", "mail me at <EMAIL_1> today"),
        ("card 4111 1111 1111 1111.", "card <CREDIT_CARD_1>."),
        ("card 4111-1111-1111-1111", "card <CREDIT_CARD_1>"),
        ("card 4111111111111111", "card <CREDIT_CARD_1>"),
        ("pay to GB82 WEST 1234 5698 7654 32 now", "pay to <IBAN_1> now"),
        ("pay to DE89370400440532013000", "pay to <IBAN_1>"),
        ("ssn 123-45-6789 ok", "ssn <SSN_1> ok"),
        ("call +1 415 555 2671 or (415) 555-2671", "call <PHONE_1> or <PHONE_2>"),
        ("call +44 20 7946 0958", "call <PHONE_1>"),
        (
            "host 10.0.0.12 and 2001:db8:85a3::8a2e:370:7334",
            "host <IP_ADDRESS_1> and <IP_ADDRESS_2>",
        ),
    ],
)
def test_pii_redaction_spans(text: str, expected: str) -> None:
    assert redact_all(text, "pii") == expected


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112",  # Luhn fails
        "iban GB82 WEST 1234 5698 7654 33",  # mod-97 fails
        "ssn 000-12-3456 and 666-12-3456 and 912-34-5678 and 123-00-4567",
        "version 1.2.3.4.5 and 999.1.1.1",  # not IPv4
        "at 10:30:00, slice a[::2]",  # not IPv6
        "the year 2024 and order #12345",
        "user@localhost has no domain",
    ],
)
def test_pii_ignores_invalid_candidates(text: str) -> None:
    assert categories(text, "pii") == []


def test_same_value_gets_the_same_placeholder() -> None:
    text = "a@example.com, b@example.com, again a@example.com"
    assert redact_all(text, "pii") == "<EMAIL_1>, <EMAIL_2>, again <EMAIL_1>"


def test_categories_filter_limits_what_is_reported() -> None:
    text = "a@example.com 4111111111111111"
    assert categories(text, "pii", categories=["credit_card"]) == ["credit_card"]


def test_cards_side_by_side_are_each_found() -> None:
    text = "cards 4111111111111111 4012888888881881 and 3782 822463 10005"
    assert redact_all(text, "pii") == "cards <CREDIT_CARD_1> <CREDIT_CARD_2> and <CREDIT_CARD_3>"
