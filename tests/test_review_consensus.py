from __future__ import annotations

from chatbot.db.models import ReviewStatus
from chatbot.review import ReviewVote, consensus


def test_no_votes_is_unreviewed_and_one_of_two_is_pending() -> None:
    assert consensus([], required=2, original_answer="a").status == ReviewStatus.unreviewed
    assert consensus([ReviewVote("approve")], required=2, original_answer="a").status == ReviewStatus.pending


def test_two_approvals_agree_on_the_original_answer() -> None:
    result = consensus([ReviewVote("approve"), ReviewVote("approve")], required=2, original_answer="orig")
    assert (result.status, result.verdict, result.answer) == (ReviewStatus.agreed, "approve", "orig")


def test_two_corrections_agree_on_the_newest_correction() -> None:
    votes = [ReviewVote("correct", "first fix"), ReviewVote("correct", "second fix")]
    result = consensus(votes, required=2, original_answer="orig")
    assert (result.status, result.verdict, result.answer) == (ReviewStatus.agreed, "correct", "second fix")


def test_different_verdicts_are_disputed_until_a_tie_breaker() -> None:
    votes = [ReviewVote("approve"), ReviewVote("reject")]
    assert consensus(votes, required=2, original_answer="o").status == ReviewStatus.disputed
    settled = consensus([*votes, ReviewVote("correct", "fixed")], required=2, original_answer="o")
    assert (settled.status, settled.verdict, settled.answer) == (ReviewStatus.agreed, "correct", "fixed")


def test_single_reviewer_setting() -> None:
    result = consensus([ReviewVote("kb_gap")], required=1, original_answer="o")
    assert (result.status, result.verdict, result.answer) == (ReviewStatus.agreed, "kb_gap", None)
