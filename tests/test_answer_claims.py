"""The output check: an answer that claims an action the bot cannot take is caught and handed off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chatbot import guard
from chatbot.app import build_app
from chatbot.generation.fake import FakeGenerator
from chatbot.handoff import SUGGESTIONS_ANSWER
from tests.conftest import make_settings
from tests.pipeline_support import KeywordRetriever, rows


@pytest.mark.parametrize(
    ("answer", "claim"),
    [
        ("I have transferred £500 to your savings account.", "I have transferred"),
        ("I've gone ahead and cancelled the payment.", "I've gone ahead"),
        ("Done! Your card is now blocked.", "Your card is now blocked"),
        ("We\u2019ve refunded the payment [1].", "We've refunded"),
        ("I'll freeze your card for you now.", "I'll freeze"),
        ("I froze your card.", "I froze"),
        ("I've checked your account and the refund arrived.", "I've checked your account"),
        ("Your refund has been processed.", "Your refund has been processed"),
        ("I can see that your payment is pending.", "I can see that your payment"),
    ],
)
def test_answers_claiming_actions_are_caught(answer: str, claim: str) -> None:
    assert guard.claims_action(answer) == claim


@pytest.mark.parametrize(
    "answer",
    [
        "You can block your card in the app (Cards > Freeze).",
        "We will refund you within 5 days.",  # the bank's policy, as the article states it: not an action taken
        "We refund fraudulent transactions after investigation.",
        "I can't block your card, but you can freeze it in the app.",
        "Once your transfer has been sent, it cannot be cancelled.",
        "If your card is blocked, unblock the PIN in the app.",
        "Your card will be blocked after three wrong PIN entries.",
        "I recommend you cancel the transfer in the app.",
        "Cards arrive within 5–7 working days. [1]",
        # a relative clause describes what the bank does (the gold answer of beneficiary_not_allowed)
        "Some recipients can't be paid, for example accounts we have blocked as high-risk.",
        "The payments that we have reversed show in Activity.",
    ],
)
def test_instructions_and_policies_are_not_claims(answer: str) -> None:
    assert guard.claims_action(answer) is None


class ClaimingGenerator(FakeGenerator):
    def reply(self, messages: Any) -> str:
        return "I have blocked your card [1]."


def test_an_answer_claiming_an_action_is_handed_off_and_kept_for_review(tmp_path: Path, sqlite_url: str) -> None:
    settings = make_settings(tmp_path, database_url=sqlite_url, few_shot_k=0, abstain_confidence=0.0)
    app = build_app(settings, retriever=KeywordRetriever(), generator=ClaimingGenerator(settings))
    app.upgrade_database()
    result = app.pipeline.answer("When will my card arrive?")
    assert (result.answer_kind, result.answer, result.abstained) == ("handoff", SUGGESTIONS_ANSWER, True)
    assert result.would_be_answer == "I have blocked your card [1]."
    (row,) = rows(app)
    assert (row.meta["reason"], row.meta["claimed_action"]) == ("claims_action", "I have blocked")


def test_the_pipeline_normalises_the_question_before_the_guard(tmp_path: Path, sqlite_url: str) -> None:
    settings = make_settings(tmp_path, database_url=sqlite_url, few_shot_k=0)
    app = build_app(settings, retriever=KeywordRetriever())
    app.upgrade_database()
    result = app.pipeline.answer("Ｗhen will my card arr\u200bive?")
    assert result.answer_kind == "generated"
    (row,) = rows(app)
    assert row.question == "When will my card arrive?"
