"""The passage answer's pure parts: Markdown to sentences, stems, IDF scores, the sentences chosen, the text."""

from __future__ import annotations

import math

import pytest

from chatbot.passage_answer import (
    article_link,
    choose_sentences,
    content_stems,
    passage_answer,
    plain,
    sentence_scores,
    split_sentences,
    stem,
)

ACTIVATION = """Activating my new card
# Activating my new card

Your physical card arrives inactive for your security. Activating it takes less than a minute in the app.

## How to activate
1. Open the Bramblecove app and go to **Cards > Activate**.
2. Either **scan the card** with your phone's camera, or **enter the 3-digit code** from your letter.
"""

DELIVERY = """## Delivery options

| Option | Where | Time | Cost |
|---|---|---|---|
| Standard | UK | 5–7 working days | Free |
| Express | UK only | 2 working days | £5.00 |

Your first physical card is free.
"""


def test_plain_drops_markdown_marks_and_keeps_link_words() -> None:
    assert plain("Go to **Cards > Activate** or see [our fees](https://x.example/fees) ![logo](l.png) `now`") == (
        "Go to Cards > Activate or see our fees now"
    )


def test_markdown_becomes_plain_sentences_without_headings_or_the_title_line() -> None:
    assert split_sentences(ACTIVATION, "Activating my new card") == [
        "Your physical card arrives inactive for your security.",
        "Activating it takes less than a minute in the app.",
        "Open the Bramblecove app and go to Cards > Activate.",
        "Either scan the card with your phone's camera, or enter the 3-digit code from your letter.",
    ]


def test_a_table_row_reads_as_header_value_pairs() -> None:
    assert split_sentences(DELIVERY) == [
        "Option: Standard; Where: UK; Time: 5–7 working days; Cost: Free.",
        "Option: Express; Where: UK only; Time: 2 working days; Cost: £5.00.",
        "Your first physical card is free.",
    ]


def test_an_intro_joins_its_list_fragments_but_not_whole_sentences() -> None:
    fragments = "To open an account you must:\n- be **18 or over**,\n- live in the UK, and\n- pass our ID check.\n"
    assert split_sentences(fragments) == [
        "To open an account you must: be 18 or over, live in the UK, and pass our ID check."
    ]
    steps = "To cancel:\n1. Open the app. Go to Payments.\n2. Tap the payment and choose Cancel\n"
    assert split_sentences(steps) == ["Open the app.", "Go to Payments.", "Tap the payment and choose Cancel."]


def test_short_pieces_are_left_out_and_addresses_get_no_full_stop() -> None:
    text = "- Website: https://www.bank.example\n- Help centre online: https://help.bank.example\nFree.\n"
    assert split_sentences(text) == ["Help centre online: https://help.bank.example"]


@pytest.mark.parametrize(
    ("word", "stemmed"),
    [
        ("activate", "activat"),
        ("activating", "activat"),
        ("activated", "activat"),
        ("activates", "activat"),
        ("cards", "card"),
        ("deliveries", "deliver"),
        ("delivery", "deliver"),
        ("fees", "fee"),
        ("address", "address"),
        ("pin", "pin"),
    ],
)
def test_stem(word: str, stemmed: str) -> None:
    assert stem(word) == stemmed


def test_content_stems_leave_out_stopwords_and_single_characters() -> None:
    assert content_stems("How do I activate my new card? It's 1 step") == {"activat", "new", "card", "step"}


def test_scores_weight_rare_question_words_higher() -> None:
    sentences = ["Open the app and go to Cards > Activate.", "Your card is free.", "Call us at any time."]
    # activat is in 1 of 3 sentences, card in 2: idf = ln((3 + 1) / (df + 1)) + 1
    idf_activat, idf_card = math.log(4 / 2) + 1, math.log(4 / 3) + 1
    assert sentence_scores("How do I activate my card?", sentences) == pytest.approx(
        [idf_activat + idf_card, idf_card, 0.0]
    )


def test_a_question_for_a_quantity_favours_sentences_with_a_number() -> None:
    # fee is in both sentences: idf = ln(3 / 3) + 1 = 1; the first one also has a number
    assert sentence_scores("How much is the fee?", ["The fee is £5.", "Fees are shown in the app."]) == [2.0, 1.0]
    # not asking for a quantity: no bonus for the number
    assert sentence_scores("Is it in the app?", ["The fee is £5.", "Fees are shown in the app."]) == pytest.approx(
        [0.0, math.log(3 / 2) + 1]
    )


def test_choose_keeps_close_runners_up_in_passage_order() -> None:
    passage = (
        "Cards arrive in 5 working days. Express cards arrive in 2 days. Track the card in the app. Call us anytime."
    )
    # arriv: df 2, card: df 3 of 4 sentences -> scores 2.73, 2.73, 1.22, 0: the third is under half the best
    assert choose_sentences("When will my card arrive?", passage) == [
        "Cards arrive in 5 working days.",
        "Express cards arrive in 2 days.",
    ]
    assert choose_sentences("When will my card arrive?", passage, max_sentences=1) == [
        "Cards arrive in 5 working days."
    ]


def test_choose_falls_back_to_the_opening_sentence_and_needs_a_sentence() -> None:
    assert choose_sentences("Tell me more", "Chat with us in the app. Phone us on weekdays.") == [
        "Chat with us in the app."
    ]
    assert choose_sentences("Tell me more", "# Only a heading\n\n| a | b |\n|---|---|\n") == []


def test_passage_answer_quotes_the_article_and_links_to_it() -> None:
    assert article_link("activate_my_card") == "/articles/activate_my_card"
    answer = passage_answer(
        "How do I activate my new card?",
        title="Activating my new card",
        article_id="activate_my_card",
        passage=ACTIVATION,
    )
    assert answer == (
        "From our help article “Activating my new card”: Activating it takes less than a minute in the app. "
        "Open the Bramblecove app and go to Cards > Activate. Read the whole article: /articles/activate_my_card"
    )
    assert passage_answer("Anything?", title="T", article_id="t", passage="## Heading only") is None


def test_the_approved_answer_fallback_drops_citation_marks_and_links_the_article() -> None:
    from chatbot.passage_answer import approved_answer_fallback

    text = approved_answer_fallback(
        title="Card delivery", article_id="card_arrival", approved="It takes  5–7 days [1] [2]."
    )
    assert (
        text
        == "From our help article “Card delivery”: It takes 5–7 days. Read the whole article: /articles/card_arrival"
    )
    assert approved_answer_fallback(title="t", article_id="a", approved="Yes [1].") is None  # too short to stand alone
    assert approved_answer_fallback(title="t", article_id="a", approved="") is None
