"""PII redaction: realistic messages, and near-misses that must be left alone."""

from __future__ import annotations

import pytest

from chatbot.pii import ACCOUNT, CARD, EMAIL, IBAN, PHONE, SORT_CODE, iban_valid, luhn_valid, redact


def test_luhn_by_hand() -> None:
    assert luhn_valid("4111111111111111")
    assert luhn_valid("79927398713")  # the textbook example
    assert not luhn_valid("4111111111111112")
    assert not luhn_valid("79927398710")


def test_iban_checksum() -> None:
    assert iban_valid("GB82 WEST 1234 5698 7654 32")
    assert iban_valid("DE89370400440532013000")
    assert not iban_valid("GB82 WEST 1234 5698 7654 33")
    assert not iban_valid("GB82")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my card 4111 1111 1111 1111 was charged twice", f"my card {CARD} was charged twice"),
        ("card no 5500-0000-0000-0004, expiry 04/27", f"card no {CARD}, expiry 04/27"),
        ("amex 378282246310005 declined", f"amex {CARD} declined"),
        ("Pay into GB82 WEST 1234 5698 7654 32 please", f"Pay into {IBAN} please"),
        ("IBAN DE89370400440532013000.", f"IBAN {IBAN}."),
        (
            "my sort code is 20-32-06 and account number 73124589",
            f"my sort code is {SORT_CODE} and account number {ACCOUNT}",
        ),
        ("sent it to 40-47-84 61839204 yesterday", f"sent it to {SORT_CODE} {ACCOUNT} yesterday"),
        ("sort code 203206", f"sort code {SORT_CODE}"),
        ("acc no. 12345678 is mine", f"acc no. {ACCOUNT} is mine"),
        ("email me at jane.doe+bank@example.co.uk thanks", f"email me at {EMAIL} thanks"),
        ("call me on 07700 900123 after 5", f"call me on {PHONE} after 5"),
        ("my number is +44 7700 900 123", f"my number is {PHONE}"),
        ("ring (020) 7946 0958", f"ring {PHONE}"),
        ("French mobile +33 6 12 34 56 78", f"French mobile {PHONE}"),
    ],
)
def test_redacts_realistic_messages(text: str, expected: str) -> None:
    assert redact(text) == (expected, True)


@pytest.mark.parametrize(
    "text",
    [
        "my payment reference is 4111 1111 1111 1112",  # 16 digits, fails Luhn
        "reference 1234567812345678 on the statement",  # fails Luhn too
        "GB82 WEST 1234 5698 7654 33",  # IBAN shape, wrong check digits
        "order 12345678 has not arrived",  # 8 digits but no account context
        "I paid £5,000 on 21-11-2026 at 08:00",
        "top up 0.5% fee, minimum £1.00, limit £10,000",
        "Call +44 1632 960 100 or write to complaints@bramblecove.example",  # the bank's own details stay
        "my PIN is blocked after 3 tries",
        "",
    ],
)
def test_near_misses_stay(text: str) -> None:
    assert redact(text) == (text, False)


def test_several_kinds_in_one_message() -> None:
    text = "I'm jo@mail.example, card 4111111111111111, phone 07700900123, ref 4111111111111112"
    assert redact(text) == (f"I'm {EMAIL}, card {CARD}, phone {PHONE}, ref 4111111111111112", True)


def test_redaction_is_idempotent() -> None:
    once, _ = redact("card 4111 1111 1111 1111, call 07700 900123")
    assert redact(once) == (once, False)


def test_keep_can_be_replaced() -> None:
    assert redact("call +44 1632 960 100", keep=()) == (f"call {PHONE}", True)
