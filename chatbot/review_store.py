"""What people say about a turn: the customer's thumbs and the reviewers' verdicts, stored redacted.

Services over the CRUD layer: free text (feedback comments, corrections, reviewer comments) is redacted before it
is written, since customers and reviewers paste card and phone numbers too; a reviewer's vote recomputes the turn's
consensus under a row lock in the same transaction.
"""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlmodel import Session, col, select

from chatbot.db import crud
from chatbot.db.models import Feedback, Review, ReviewCreate, Turn, utcnow
from chatbot.pii import redact
from chatbot.review import ReviewVote, consensus


# --- feedback --------------------------------------------------------------------------------------------
def _redact_optional(text: str | None) -> str | None:
    return None if text is None else redact(text)[0]


def set_feedback(*, session: Session, turn_id: uuid.UUID, rating: int, comment: str | None = None) -> Feedback:
    """Record the customer's thumbs; a second click on the same turn updates the row."""
    if rating not in (1, -1):
        raise ValueError("rating must be +1 or -1")
    crud.get_turn(session=session, turn_id=turn_id)
    comment = _redact_optional(comment)  # customers type card numbers and phone numbers into comments too
    feedback = session.exec(select(Feedback).where(Feedback.turn_id == turn_id)).first()
    if feedback is None:
        feedback = Feedback(turn_id=turn_id, rating=rating, comment=comment)
    else:
        feedback.rating = rating
        feedback.comment = comment if comment is not None else feedback.comment
        feedback.updated_at = utcnow()
    session.add(feedback)
    session.commit()
    session.refresh(feedback)
    return feedback


def clear_feedback(*, session: Session, turn_id: uuid.UUID) -> None:
    feedback = session.exec(select(Feedback).where(Feedback.turn_id == turn_id)).first()
    if feedback is not None:
        session.delete(feedback)
        session.commit()


# --- reviews ----------------------------------------------------------------------------------------------
def add_review(*, session: Session, review_create: ReviewCreate, required: int) -> Review:
    """Store one reviewer's verdict and recompute the turn's consensus in the same transaction.

    The unique constraint (turn, reviewer) rejects a second review by the same person. The turn row is locked
    first, so two reviewers submitting at once are counted one after the other: without the lock each transaction
    sees only its own vote and both leave the turn 'pending'.
    """
    from chatbot.db.models import Verdict

    if review_create.verdict not in {v.value for v in Verdict}:
        raise ValueError(f"verdict must be one of {', '.join(v.value for v in Verdict)}")
    if review_create.verdict == Verdict.correct and not (review_create.corrected_answer or "").strip():
        raise ValueError("a correction needs the corrected answer")
    turn = _locked_turn(session=session, turn_id=review_create.turn_id)
    # Reviewers paste from the customer's question; what is stored (and trained on) must be redacted.
    review_create = review_create.model_copy(
        update={
            "corrected_answer": _redact_optional(review_create.corrected_answer),
            "comment": _redact_optional(review_create.comment),
        }
    )
    review = Review.model_validate(review_create)
    session.add(review)
    session.flush()
    votes = [
        ReviewVote(r.verdict, r.corrected_answer, r.article_id)
        for r in crud.turn_reviews(session=session, turn_id=turn.id)
    ]
    # Reviewers judge the model's own answer: when the customer got a passage or a hand-off instead, approving
    # means the withheld answer was right, and that is the text to learn from.
    result = consensus(votes, required=required, original_answer=turn.would_be_answer or turn.answer)
    turn.review_status = result.status
    turn.consensus_verdict = result.verdict
    turn.consensus_answer = result.answer
    turn.consensus_article_id = result.article_id
    session.add(turn)
    session.commit()
    session.refresh(review)
    return review


def _locked_turn(*, session: Session, turn_id: uuid.UUID) -> Turn:
    """The turn, locked until the transaction ends: SELECT … FOR UPDATE on PostgreSQL; on SQLite a write that
    changes nothing takes the database's write lock (SQLite has no row locks and renders no FOR UPDATE)."""
    if session.get_bind().dialect.name == "sqlite":
        touch = update(Turn).where(col(Turn.id) == turn_id).values(review_status=Turn.review_status)
        session.execute(touch.execution_options(synchronize_session=False))
    stmt = select(Turn).where(Turn.id == turn_id).with_for_update().execution_options(populate_existing=True)
    turn = session.exec(stmt).first()
    if turn is None:
        raise crud.NotFound(f"no turn {turn_id}")
    return turn
