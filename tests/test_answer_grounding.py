"""The grounding check: exact shares on small texts, the hand-labelled answers, and the chat replacing an answer
written from another article."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chatbot.answer_grounding import MIN_GROUNDED_SHARE, content_words, grounded_share
from chatbot.generation.fake import FakeGenerator
from tests.pipeline_support import make_app, rows

CARD_ARRIVAL = "Cards arrive within 5–7 working days. Check progress under Cards > Card status."


def test_content_words_drop_function_words_markers_and_the_answer_frame() -> None:
    assert content_words("The answer to your question is: [1]") == []
    assert content_words("Freezing the card at Cards [2]") == ["freez", "card", "cards"]
    assert content_words("You can't pay £5.50 in 5–7 days") == ["pay", "£5.50", "days"]


def test_exact_shares() -> None:
    assert grounded_share("Cards arrive within 5–7 working days. [1]", [CARD_ARRIVAL]) == (1.0, 5)
    # freez, recen, trans, lost, stole are not in the article; card, cards, check are.
    lost_card = "Freeze the card at Cards. Check recent transactions if you lost your card or it was stolen."
    assert grounded_share(lost_card, [CARD_ARRIVAL]) == pytest.approx((4 / 9, 9))
    assert grounded_share("The answer to this question is: [1]", [CARD_ARRIVAL]) == (0.0, 0)
    assert grounded_share(lost_card, [CARD_ARRIVAL])[0] >= MIN_GROUNDED_SHARE  # 0.44: over the threshold
    other = "Freeze it in the app straight away, then report it lost or stolen and order a replacement."
    assert grounded_share(other, [CARD_ARRIVAL]) == (0.0, 9)
    lost = "I lost my card. Freeze it in the app, report it stolen, order one."
    assert grounded_share(other, [CARD_ARRIVAL, lost])[0] >= MIN_GROUNDED_SHARE


def test_the_hand_labelled_answers_split_as_measured() -> None:
    from benchmarks.answer_grounding import measure

    report = measure()
    assert report["shipped_threshold"] == MIN_GROUNDED_SHARE
    assert report["all"]["by_threshold"][str(MIN_GROUNDED_SHARE)]["right_withheld"] == 0  # why it ships
    assert (report["all"]["right"], report["all"]["wrong"]) == (63, 215)
    assert report["all"]["by_threshold"]["0.4"] == {"right_withheld": 0, "wrong_caught": 53}
    assert report["all"]["by_threshold"]["0.5"] == {"right_withheld": 0, "wrong_caught": 72}
    assert report["all"]["lowest_right_share"] == pytest.approx(0.6154)


class OtherArticleGenerator(FakeGenerator):
    def reply(self, messages: Any) -> str:
        return "Freeze it in the app straight away, then report it lost or stolen and order a replacement. [1]"


def test_an_answer_from_another_article_is_replaced(tmp_path: Path, sqlite_url: str) -> None:
    app = make_app(tmp_path, sqlite_url, abstain_confidence=0.0, answer_min_retrieval_certainty=0.0)
    app = app.with_parts(generator=OtherArticleGenerator(app.settings))
    result = app.pipeline.answer("When will my card arrive?")
    assert result.answer_kind != "generated"
    assert result.would_be_answer is not None and result.would_be_answer.startswith("Freeze it in the app")
    (row,) = rows(app)
    assert row.meta["reason"] == "ungrounded"
    assert row.meta["grounded_share"] < MIN_GROUNDED_SHARE


def test_the_answer_frame_is_dropped_unless_nothing_follows() -> None:
    from chatbot.turn_text import strip_answer_frame

    assert strip_answer_frame("The answer to the question is: 5–7 working days. [1]") == "5–7 working days. [1]"
    assert strip_answer_frame("answer is: Freeze the card.") == "Freeze the card."
    assert strip_answer_frame("The answer to this question is: [1]") == "The answer to this question is: [1]"
    assert strip_answer_frame("Your answer is in the app.") == "Your answer is in the app."
