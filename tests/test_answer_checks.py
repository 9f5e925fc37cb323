"""Contact numbers in a generated answer must come from its passages or the bank's published contacts."""

from __future__ import annotations

from chatbot import guard
from chatbot.answer_checks import (
    failed_check,
    repeated_run,
    repeated_sentences,
    unsupported_figures,
    unsupported_numbers,
)

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


def test_a_sentence_said_twice_is_a_loop() -> None:
    loop = "The answer is: your card arrives soon [1]. The answer is: your card arrives soon."
    assert repeated_sentences(loop) == ["the answer is", "your card arrives soon"]
    assert repeated_sentences("Open the app. Tap Card. Tap Card. Tap Freeze.") == []  # short steps may recur
    assert repeated_sentences("Open the app and tap Card. Then freeze it in the app and tap Card.") == []


def test_the_first_failed_check_names_the_reason_and_counts_only() -> None:
    assert failed_check("I have refunded the payment to you.", PASSAGES) == (
        "claims_action",
        {"claimed_action": guard.claims_action("I have refunded the payment to you.")},
    )
    assert failed_check("Call 123-456-7890.", PASSAGES) == ("unsupported_number", {"unsupported_numbers": 1})
    loop = "It costs £5 to replace. It costs £5 to replace."
    assert failed_check(loop, PASSAGES) == ("repeated_text", {"repeated_sentences": 1})
    assert failed_check("A new card costs £5 and arrives in 5-7 working days [2].", PASSAGES) is None


def test_a_run_of_eight_words_said_twice_inside_sentences_is_a_loop() -> None:
    seen_in_the_browser = (
        "This is a feature that allows you to use your own money to make purchases, which is a feature that "
        "allows you to use your own money to make purchases."
    )
    assert repeated_run(seen_in_the_browser) == "is a feature that allows you to use"
    assert failed_check(seen_in_the_browser, PASSAGES) == (
        "repeated_text",
        {"repeated_sentences": 0, "repeated_run_words": 8},
    )
    steps = "Go to Cards > Freeze in the app, then go to Cards > Replace card in the app to order a new one."
    assert repeated_run(steps) is None  # short phrases ("in the app") recur in real answers


def test_money_and_percentages_only_the_answer_states_fail_it() -> None:
    passage = (
        "Exchange markup: 0.5% above your £1,000 monthly allowance, or 1% at weekends. Express delivery costs £5.00."
    )
    right = "It is 0.5 % above £1000 a month (1 per cent at weekends); express delivery is £5 [1]."
    assert unsupported_figures(right, [passage]) == []
    wrong = "The markup is 1.8% and express delivery costs £5.50 or $5 [1]."
    assert unsupported_figures(wrong, [passage]) == ["1.8%", "£5.50", "$5"]
    assert failed_check(wrong, [passage]) == ("unsupported_figure", {"unsupported_figures": 3})
    assert failed_check(right, [passage]) is None


def test_a_counting_loop_is_a_loop_with_its_numbers_masked() -> None:
    # Seen in the browser: the model counted upwards after the article's one figure.
    loop = (
        "Exchange markup on a foreign-currency payment: 0.5% once you have converted more than £1,000 - 1% for "
        "payments – 1% for transfers – 2% for transfers – 3% for transfers – 4.5% for transfers – 5% for transfers"
    )
    assert repeated_run(loop) is None  # no eight words said twice as written
    assert (
        repeated_run(loop, 12, mask_numbers=True)
        == "0% for transfers 0% for transfers 0% for transfers 0% for transfers"
    )
    assert failed_check(loop, ["0.5% above £1,000, 1% at weekends"]) == (
        "repeated_text",
        {"repeated_sentences": 0, "repeated_run_words": 12},
    )
    # A list that repeats its shape a few times is not a loop.
    fees = "Fees: £5 for express delivery, £5 for a spare card and £5 for a replacement you asked for."
    assert repeated_run(fees, 12, mask_numbers=True) is None
