"""Contact numbers in a generated answer must come from its passages or the bank's published contacts."""

from __future__ import annotations

from chatbot.answer_checks import unsupported_numbers

PASSAGES = [
    "Call our lost and stolen line on +44 1632 960 999, 24/7.",
    "A new card costs £5 and arrives in 5-7 working days; the limit is £10,000 a day.",
]


def test_invented_numbers_are_found_stated_ones_pass() -> None:
    assert unsupported_numbers("call 123-456-7890 (UK) or +44 1632 960 999", PASSAGES) == ["123-456-7890"]
    assert unsupported_numbers("Call 01632 960999 now.", PASSAGES) == []  # the national form of a passage number
    assert unsupported_numbers("Phone +44 1632 960 100.", []) == []  # published by the bank (PUBLIC_CONTACTS)
    assert unsupported_numbers("call (020) 7946 0018", []) == ["(020) 7946 0018"]


def test_amounts_durations_and_short_numbers_are_not_contact_numbers() -> None:
    text = "It takes 5-7 working days, costs £5 and the limit is £10,000 a day; PIN of 4 digits, 2024."
    assert unsupported_numbers(text, []) == []
