"""Consensus between reviewers: a pure function, used by the review queue, the simulation and the store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chatbot.db.models import ReviewStatus, Verdict


@dataclass(frozen=True)
class ReviewVote:
    verdict: str
    corrected_answer: str | None = None
    article_id: str | None = None  # with a correction: the article the answer should cite


@dataclass(frozen=True)
class Consensus:
    status: ReviewStatus
    verdict: str | None
    answer: str | None  # the answer to learn from: the original when approved, the correction when corrected
    article_id: str | None = None  # the article an agreed correction cites, when a reviewer chose one


def consensus(votes: Sequence[ReviewVote], *, required: int, original_answer: str) -> Consensus:
    """Agreed when the first `required` votes share a verdict; disputed when they differ.

    Reviews beyond `required` (e.g. an engineer settling a dispute) win: the newest vote decides a disputed turn
    when it comes after the required number, so disputes can be resolved by one more review.
    """
    if not votes:
        return Consensus(ReviewStatus.unreviewed, None, None)
    if len(votes) < required:
        return Consensus(ReviewStatus.pending, None, None)
    first = votes[:required]
    verdicts = {v.verdict for v in first}
    if len(verdicts) == 1:
        return _agreed(first[0].verdict, first, original_answer)
    if len(votes) > required:
        last = votes[-1]
        return _agreed(last.verdict, [last], original_answer)
    return Consensus(ReviewStatus.disputed, None, None)


def _agreed(verdict: str, votes: Sequence[ReviewVote], original_answer: str) -> Consensus:
    if verdict == Verdict.approve:
        return Consensus(ReviewStatus.agreed, verdict, original_answer)
    if verdict == Verdict.correct:
        # The newest non-empty correction is the one we learn from.
        corrections = [v.corrected_answer for v in votes if v.corrected_answer and v.corrected_answer.strip()]
        # Likewise the newest chosen article (reviewers who agree on the verdict rarely pick different ones).
        articles = [v.article_id for v in votes if v.verdict == Verdict.correct and v.article_id]
        return Consensus(
            ReviewStatus.agreed, verdict, corrections[-1] if corrections else None, articles[-1] if articles else None
        )
    return Consensus(ReviewStatus.agreed, verdict, None)
