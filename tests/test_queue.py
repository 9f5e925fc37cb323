"""The reviewer queue: priority order and reasons, filters, blind per-reviewer queues, consensus on submit."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlmodel import Session

from chatbot import review_store
from chatbot.db import crud
from chatbot.db.models import ReviewStatus, TurnCreate, UserCreate
from chatbot.review_queue import (
    TIER_ABSTAINED,
    TIER_LOW_CONFIDENCE,
    TIER_REST,
    TIER_THUMBS_DOWN,
    QueueFilters,
    ReviewRejected,
    priority,
    review_queue,
    submit_review,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _turn(confidence: float, abstained: bool = False, created_at: datetime = T0) -> Any:
    return SimpleNamespace(confidence=confidence, abstained=abstained, created_at=created_at)


def test_priority_tiers_and_reasons() -> None:
    key, reason = priority(_turn(0.9), -1)
    assert key == (TIER_THUMBS_DOWN, 0.9, T0.timestamp())
    assert reason == "customer gave thumbs-down (confidence 0.90)"
    key, reason = priority(_turn(0.42), None)
    assert key[0] == TIER_LOW_CONFIDENCE and reason == "low confidence 0.42 < 0.50"
    key, reason = priority(_turn(0.2, abstained=True), None)
    assert key[0] == TIER_ABSTAINED and reason == "bot handed off to an agent (confidence 0.20)"
    key, reason = priority(_turn(0.8), 1)
    assert key[0] == TIER_REST and reason == "routine check after thumbs-up (confidence 0.80)"
    assert priority(_turn(0.8), None)[1] == "routine check (confidence 0.80)"
    picked = SimpleNamespace(confidence=0.9, abstained=False, created_at=T0, meta={"reason": "customer_chose_article"})
    key, reason = priority(picked, None)
    assert key == (TIER_LOW_CONFIDENCE, 0.9, T0.timestamp())
    assert reason == "the customer picked this article from the bot's suggestions: does it answer the question?"
    # the threshold is a parameter
    assert priority(_turn(0.42), None, low_confidence=0.4)[0][0] == TIER_REST


def test_priority_order_inside_and_across_tiers() -> None:
    later = T0 + timedelta(hours=1)
    turns = {
        "down_sure": (_turn(0.95), -1),
        "down_unsure": (_turn(0.3), -1),
        "low": (_turn(0.45), None),
        "abstain": (_turn(0.1, abstained=True), None),
        "rest_old": (_turn(0.7), 1),
        "rest_new": (_turn(0.7, created_at=later), None),
    }
    order = sorted(turns, key=lambda name: priority(*turns[name])[0])
    assert order == ["down_unsure", "down_sure", "low", "abstain", "rest_old", "rest_new"]
    naive = SimpleNamespace(confidence=0.7, abstained=False, created_at=T0.replace(tzinfo=None))
    assert priority(naive, None)[0] == priority(_turn(0.7), None)[0]  # SQLite's naive UTC times compare equal


# --- against a real database ------------------------------------------------------------------------------------
@pytest.fixture
def session(migrated_engine: Any) -> Iterator[Session]:
    with Session(migrated_engine) as s:
        yield s


def _user(session: Session, name: str, role: str = "reviewer") -> uuid.UUID:
    user = crud.create_user(session=session, user_create=UserCreate(username=name, role=role, password="pw-12345678"))
    return user.id


def _add(
    session: Session,
    question: str,
    confidence: float,
    *,
    abstained: bool = False,
    rating: int | None = None,
    created_at: datetime = T0,
    article: str = "card_arrival",
) -> uuid.UUID:
    turn = crud.create_turn(
        session=session,
        turn_create=TurnCreate(
            question=question,
            answer=f"answer to {question}",
            confidence=confidence,
            abstained=abstained,
            created_at=created_at,
            sources=[{"id": article, "title": article.title(), "score": 0.8, "text": "passage"}],
        ),
    )
    if rating is not None:
        review_store.set_feedback(session=session, turn_id=turn.id, rating=rating)
    return turn.id


@pytest.fixture
def seeded(session: Session) -> dict[str, uuid.UUID]:
    return {
        "rest": _add(session, "rest", 0.9, rating=1),
        "abstain": _add(session, "abstain", 0.2, abstained=True, article="lost_or_stolen_card"),
        "down": _add(session, "down", 0.8, rating=-1, created_at=T0 + timedelta(days=1)),
        "low": _add(session, "low", 0.4),
        "plain": _add(session, "plain", 0.6, created_at=T0 + timedelta(days=2)),
    }


def test_queue_orders_by_priority_with_reasons(session: Session, seeded: dict[str, uuid.UUID]) -> None:
    items = review_queue(session, reviewer_id=_user(session, "ann"))
    assert [i.question for i in items] == ["down", "low", "abstain", "plain", "rest"]
    assert items[0].reason.startswith("customer gave thumbs-down")
    assert items[0].feedback_rating == -1
    assert items[0].sources[0]["id"] == "card_arrival"
    assert len(review_queue(session, reviewer_id=None, limit=2)) == 2


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (QueueFilters(thumbs="down"), ["down"]),
        (QueueFilters(thumbs="up"), ["rest"]),
        (QueueFilters(thumbs="none"), ["low", "abstain", "plain"]),
        (QueueFilters(min_confidence=0.5, max_confidence=0.85), ["down", "plain"]),
        (QueueFilters(date_from=date(2026, 3, 2)), ["down", "plain"]),
        (QueueFilters(date_to=date(2026, 3, 1)), ["low", "abstain", "rest"]),
        (QueueFilters(date_from=date(2026, 3, 2), date_to=date(2026, 3, 2)), ["down"]),
        (QueueFilters(article_id="lost_or_stolen_card"), ["abstain"]),
        (QueueFilters(status="agreed"), []),
    ],
)
def test_queue_filters(
    session: Session, seeded: dict[str, uuid.UUID], filters: QueueFilters, expected: list[str]
) -> None:
    assert [i.question for i in review_queue(session, reviewer_id=None, filters=filters)] == expected


def test_bad_filters_are_refused() -> None:
    with pytest.raises(ValueError, match="thumbs"):
        QueueFilters(thumbs="sideways")
    with pytest.raises(ValueError, match="status"):
        QueueFilters(status="done")
    with pytest.raises(ValueError, match="minimum"):
        QueueFilters(min_confidence=0.8, max_confidence=0.2)


def test_consensus_through_the_queue(session: Session, seeded: dict[str, uuid.UUID]) -> None:
    ann, bob, eve = _user(session, "ann"), _user(session, "bob"), _user(session, "eve", "engineer")
    down = seeded["down"]
    turn = submit_review(
        session, turn_id=down, reviewer_id=ann, verdict="correct", required=2, corrected_answer="Better answer."
    )
    assert turn.review_status == ReviewStatus.pending
    # ann no longer sees it; bob still does, at the top, without ann's verdict
    assert down not in [i.turn_id for i in review_queue(session, reviewer_id=ann)]
    assert review_queue(session, reviewer_id=bob)[0].turn_id == down
    with pytest.raises(ReviewRejected, match="already reviewed"):
        submit_review(session, turn_id=down, reviewer_id=ann, verdict="approve", required=2)
    turn = submit_review(
        session, turn_id=down, reviewer_id=bob, verdict="correct", required=2, corrected_answer="Best answer."
    )
    assert (turn.review_status, turn.consensus_verdict, turn.consensus_answer) == ("agreed", "correct", "Best answer.")
    assert down not in [i.turn_id for i in review_queue(session, reviewer_id=eve)]  # agreed: out of the open queue

    low = seeded["low"]
    submit_review(session, turn_id=low, reviewer_id=ann, verdict="approve", required=2, corrected_answer="ignored")
    turn = submit_review(session, turn_id=low, reviewer_id=bob, verdict="kb_gap", required=2)
    assert turn.review_status == ReviewStatus.disputed
    disputed = review_queue(session, reviewer_id=eve, filters=QueueFilters(status="disputed"))
    assert [i.turn_id for i in disputed] == [low]
    assert [r.corrected_answer for r in crud.turn_reviews(session=session, turn_id=low)] == [None, None]
    # once disputed, only an engineer (may_settle) adds a review, and the newest review decides
    cat = _user(session, "cat")
    with pytest.raises(ReviewRejected, match="already disputed; only an engineer"):
        submit_review(session, turn_id=low, reviewer_id=cat, verdict="approve", required=2)
    turn = submit_review(session, turn_id=low, reviewer_id=eve, verdict="kb_gap", required=2, may_settle=True)
    assert (turn.review_status, turn.consensus_verdict) == ("agreed", "kb_gap")
    with pytest.raises(ReviewRejected, match="already agreed"):
        submit_review(session, turn_id=down, reviewer_id=cat, verdict="approve", required=2)


def test_submit_review_refuses_bad_input(session: Session, seeded: dict[str, uuid.UUID]) -> None:
    ann = _user(session, "ann")
    with pytest.raises(ReviewRejected, match="corrected answer"):
        submit_review(session, turn_id=seeded["down"], reviewer_id=ann, verdict="correct", required=2)
    with pytest.raises(ReviewRejected, match="unknown verdict"):
        submit_review(session, turn_id=seeded["down"], reviewer_id=ann, verdict="maybe", required=2)
    with pytest.raises(ReviewRejected, match="no turn"):
        submit_review(session, turn_id=uuid.uuid4(), reviewer_id=ann, verdict="approve", required=2)
    assert crud.turn_reviews(session=session, turn_id=seeded["down"]) == []


def test_spot_checks_take_their_share_of_the_queue_in_order_of_arrival(session: Session) -> None:
    # q4, q5 and q7 are in the 25 % spot check (chatbot.risk.in_spot_check), q0, q1 and q2 are not.
    hour = timedelta(hours=1)
    _add(session, "q4", 0.95, created_at=T0 + hour)
    _add(session, "q5", 0.2, created_at=T0 + 2 * hour)
    _add(session, "q7", 0.9, created_at=T0 + 3 * hour)
    _add(session, "q0", 0.3)
    _add(session, "q1", 0.9, rating=-1)
    _add(session, "q2", 0.8)

    def queue(reviewer: uuid.UUID | None, limit: int) -> list[str]:
        items = review_queue(session, reviewer_id=reviewer, limit=limit, spot_check_share=0.25)
        return [item.question for item in items]

    # Four places, nothing reviewed yet: one is due for the spot check, the oldest, whatever its confidence.
    assert queue(None, 4) == ["q4", "q1", "q0", "q2"]
    assert review_queue(session, reviewer_id=None, limit=1, spot_check_share=0.25)[0].reason == (
        "random spot check (confidence 0.95): keeps the estimated risk honest"
    )
    # Ten places: all three are due; those not due wait at the end, never picked early by their confidence.
    assert queue(None, 10) == ["q4", "q5", "q7", "q1", "q0", "q2"]
    assert queue(None, 6)[:3] == ["q4", "q5", "q1"]
    ann, bob = _user(session, "ann"), _user(session, "bob")
    submit_review(session, turn_id=_id(session, "q4"), reviewer_id=ann, verdict="approve", required=2)
    # q4 waits for its second vote (due whatever the share), then the next spot check is due.
    assert queue(bob, 4) == ["q4", "q5", "q1", "q0"]
    assert queue(ann, 4) == ["q5", "q1", "q0", "q2"]
    # Without a spot check the queue is the plain priority order.
    plain = review_queue(session, reviewer_id=bob, limit=10)
    assert [i.question for i in plain] == ["q1", "q5", "q0", "q2", "q7", "q4"]


def _id(session: Session, question: str) -> uuid.UUID:
    from sqlmodel import select

    from chatbot.db.models import Turn

    return session.exec(select(Turn).where(Turn.question == question)).one().id
