"""The reviewer queue: which turn a reviewer should look at next, and why.

No Gradio here: the web app's review page and the feedback simulation both take the top of this queue.
``priority`` is pure (tested with exact values); ``review_queue`` runs the SQL and sorts with it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import exists
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from chatbot import review_store
from chatbot.db import crud
from chatbot.db.models import Feedback, Review, ReviewCreate, ReviewStatus, Turn, Verdict
from chatbot.errors import BankbotError
from chatbot.risk import in_spot_check, spot_checks_due
from chatbot.turn_outcome import CHOSEN_ARTICLE

# Answered turns under this confidence are reviewed right after thumbs-down ones. Higher than the abstain
# threshold on purpose: the answers just above it are the ones most likely to be wrong but still shown.
LOW_CONFIDENCE = 0.5

# Tiers, lowest first in the queue. Spot checks (chatbot.risk.in_spot_check) due now come first, in order of
# arrival whatever their confidence or thumbs, so the reviewed ones stay an unbiased sample; those not yet due wait
# at the end, never reviewed out of turn by the other tiers.
TIER_SPOT_CHECK = -1
TIER_THUMBS_DOWN = 0
TIER_LOW_CONFIDENCE = 1
TIER_ABSTAINED = 2
TIER_REST = 3
TIER_SPOT_CHECK_LATER = 4
SPOT_DUE = "due"
SPOT_LATER = "later"

# Status filter choices -> review_status values; "open" is what still needs reviews.
STATUS_CHOICES: dict[str, tuple[str, ...]] = {
    "open": (ReviewStatus.unreviewed, ReviewStatus.pending),
    "unreviewed": (ReviewStatus.unreviewed,),
    "pending": (ReviewStatus.pending,),
    "disputed": (ReviewStatus.disputed,),
    "agreed": (ReviewStatus.agreed,),
    "all": tuple(ReviewStatus),
}
THUMBS_CHOICES = ("any", "down", "up", "none")


class ReviewRejected(BankbotError):
    """A review that cannot be stored (already reviewed by this person, missing correction, unknown turn)."""


@dataclass(frozen=True)
class QueueFilters:
    date_from: date | None = None  # inclusive, UTC days
    date_to: date | None = None  # inclusive
    min_confidence: float = 0.0
    max_confidence: float = 1.0
    thumbs: str = "any"  # any | down | up | none
    article_id: str | None = None  # a retrieved source's article id
    status: str = "open"  # a key of STATUS_CHOICES

    def __post_init__(self) -> None:
        if self.thumbs not in THUMBS_CHOICES:
            raise ValueError(f"thumbs must be one of {', '.join(THUMBS_CHOICES)}, not {self.thumbs!r}")
        if self.status not in STATUS_CHOICES:
            raise ValueError(f"status must be one of {', '.join(STATUS_CHOICES)}, not {self.status!r}")
        if self.min_confidence > self.max_confidence:
            raise ValueError("the minimum confidence is above the maximum")


@dataclass(frozen=True)
class QueueItem:
    turn_id: uuid.UUID
    question: str
    answer: str
    confidence: float
    abstained: bool
    feedback_rating: int | None
    review_status: str
    created_at: datetime
    rank_key: tuple[Any, ...]
    reason: str
    sources: list[dict[str, Any]] = field(default_factory=list)


def priority(
    turn: Any, feedback_rating: int | None, *, low_confidence: float = LOW_CONFIDENCE, spot: str | None = None
) -> tuple[tuple[Any, ...], str]:
    """(sort key, human reason) for one turn; smaller keys come first.

    Order: spot checks due now (``spot`` SPOT_DUE; oldest first), thumbs-down, then answered with low confidence,
    then abstentions, then everything else, then spot checks not yet due (SPOT_LATER). Inside the other tiers
    the least confident first, then the oldest (first come, first served). `turn` needs ``confidence``,
    ``abstained`` and ``created_at``; a ``passage_shown`` attribute (the model's answer failed its checks and the
    customer got the article's passage) ranks it with the low-confidence answers whatever its confidence, and so
    does a turn answered from an article the customer picked from a hand-off's suggestions (``meta["reason"]``).
    """
    confidence = float(turn.confidence)
    if spot is not None:
        tier = TIER_SPOT_CHECK if spot == SPOT_DUE else TIER_SPOT_CHECK_LATER
        reason = f"random spot check (confidence {confidence:.2f}): keeps the estimated risk honest"
        return (tier, 0.0, _timestamp(turn.created_at)), reason
    if feedback_rating is not None and feedback_rating < 0:
        tier, reason = TIER_THUMBS_DOWN, f"customer gave thumbs-down (confidence {confidence:.2f})"
    elif (getattr(turn, "meta", None) or {}).get("reason") == CHOSEN_ARTICLE:
        tier = TIER_LOW_CONFIDENCE  # retrieval was unsure: the reviewers' verdict teaches it the question
        reason = "the customer picked this article from the bot's suggestions: does it answer the question?"
    elif getattr(turn, "passage_shown", False):
        tier = TIER_LOW_CONFIDENCE
        reason = f"the model's answer failed its checks; the customer got the passage (confidence {confidence:.2f})"
    elif not turn.abstained and confidence < low_confidence:
        tier, reason = TIER_LOW_CONFIDENCE, f"low confidence {confidence:.2f} < {low_confidence:.2f}"
    elif turn.abstained:
        tier, reason = TIER_ABSTAINED, f"bot handed off to an agent (confidence {confidence:.2f})"
    else:
        thumbs = " after thumbs-up" if feedback_rating is not None and feedback_rating > 0 else ""
        tier, reason = TIER_REST, f"routine check{thumbs} (confidence {confidence:.2f})"
    return (tier, round(confidence, 6), _timestamp(turn.created_at)), reason


def _timestamp(value: datetime) -> float:
    # SQLite hands back naive datetimes (stored as UTC); PostgreSQL aware ones.
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def review_queue(
    session: Session,
    *,
    reviewer_id: uuid.UUID | None,
    filters: QueueFilters | None = None,
    limit: int = 50,
    low_confidence: float = LOW_CONFIDENCE,
    spot_check_share: float = 0.0,
) -> list[QueueItem]:
    """The top `limit` turns for this reviewer, highest priority first.

    Turns the reviewer has already reviewed are left out (they review each turn once, blind to the others).
    ``spot_check_share`` (``settings.spot_check_share``): that share of the reviewed turns goes to the spot check.
    """
    filters = filters or QueueFilters()
    stmt = _open_turns_query(filters, reviewer_id)

    # Rank on the light columns only, then load the few full rows that make the cut.
    rows = session.execute(stmt).all()
    spots = _spot_places(session, rows, share=spot_check_share, limit=limit)
    ranked = sorted(
        (
            (priority(row, row.rating, low_confidence=low_confidence, spot=spots.get(row.id)), row.id, row.rating)
            for row in rows
        ),
        key=lambda item: item[0][0],
    )
    items: list[QueueItem] = []
    for (key, reason), turn_id, rating in ranked:
        turn = session.get(Turn, turn_id)
        if turn is None:
            continue
        if filters.article_id and not any(s.get("id") == filters.article_id for s in turn.sources or []):
            continue
        items.append(_item(turn, rating, key, reason))
        if len(items) >= limit:
            break
    return items


def _open_turns_query(filters: QueueFilters, reviewer_id: uuid.UUID | None) -> Any:
    """The light columns of the turns the filters keep, less those this reviewer has reviewed."""
    stmt = (
        # plain SQLAlchemy select: SQLModel's typed overloads stop at four columns
        sa_select(
            col(Turn.id),
            col(Turn.confidence),
            col(Turn.abstained),
            col(Turn.created_at),
            col(Feedback.rating),
            col(Turn.question),
            col(Turn.meta),
            col(Turn.review_status),
            # a would-be answer on a turn that was not handed off: the customer got the passage instead
            (~col(Turn.abstained) & col(Turn.would_be_answer).is_not(None)).label("passage_shown"),
        )
        .join(Feedback, col(Feedback.turn_id) == col(Turn.id), isouter=True)
        .where(col(Turn.review_status).in_(STATUS_CHOICES[filters.status]))
        .where(col(Turn.confidence) >= filters.min_confidence, col(Turn.confidence) <= filters.max_confidence)
    )
    if reviewer_id is not None:
        mine = exists().where(col(Review.turn_id) == col(Turn.id), col(Review.reviewer_id) == reviewer_id)
        stmt = stmt.where(~mine)
    if filters.date_from is not None:
        stmt = stmt.where(col(Turn.created_at) >= datetime.combine(filters.date_from, time.min, UTC))
    if filters.date_to is not None:
        stmt = stmt.where(col(Turn.created_at) < datetime.combine(filters.date_to + timedelta(days=1), time.min, UTC))
    if filters.thumbs == "down":
        stmt = stmt.where(col(Feedback.rating) < 0)
    elif filters.thumbs == "up":
        stmt = stmt.where(col(Feedback.rating) > 0)
    elif filters.thumbs == "none":
        stmt = stmt.where(col(Feedback.id).is_(None))
    return stmt


def _spot_places(session: Session, rows: Sequence[Any], *, share: float, limit: int) -> dict[Any, str]:
    """Turn id → SPOT_DUE or SPOT_LATER for the spot-check turns among ``rows``. Due: every one already reviewed
    by someone (its consensus needs more votes), and the oldest unreviewed ones the share asks for now."""
    if share <= 0.0:
        return {}
    spot_rows = [r for r in rows if in_spot_check(r.question, (r.meta or {}).get("reason"), share)]
    if not spot_rows:
        return {}
    reviewed = session.execute(
        sa_select(col(Turn.question), col(Turn.meta)).where(col(Turn.review_status) != ReviewStatus.unreviewed)
    ).all()
    reviewed_spots = sum(1 for r in reviewed if in_spot_check(r.question, (r.meta or {}).get("reason"), share))
    due = spot_checks_due(share=share, reviewed_turns=len(reviewed), reviewed_spot_checks=reviewed_spots, taking=limit)
    places: dict[Any, str] = {}
    for row in sorted(spot_rows, key=lambda r: (_timestamp(r.created_at), str(r.id))):
        if row.review_status != ReviewStatus.unreviewed:
            places[row.id] = SPOT_DUE
        elif due > 0:
            places[row.id] = SPOT_DUE
            due -= 1
        else:
            places[row.id] = SPOT_LATER
    return places


def _item(turn: Turn, rating: int | None, key: tuple[Any, ...], reason: str) -> QueueItem:
    return QueueItem(
        turn_id=turn.id,
        question=turn.question,
        answer=turn.answer,
        confidence=turn.confidence,
        abstained=turn.abstained,
        feedback_rating=rating,
        review_status=turn.review_status,
        created_at=turn.created_at,
        rank_key=key,
        reason=reason,
        sources=list(turn.sources or []),
    )


def submit_review(
    session: Session,
    *,
    turn_id: uuid.UUID,
    reviewer_id: uuid.UUID,
    verdict: str,
    required: int,
    corrected_answer: str | None = None,
    article_id: str | None = None,
    comment: str | None = None,
    may_settle: bool = False,
) -> Turn:
    """Store one verdict (consensus is recomputed by the store) and return the turn as it now stands.

    Once a turn is agreed or disputed only someone allowed to settle it (an engineer) may add a review: the newest
    review then decides a disputed turn (see chatbot.review.consensus).
    """
    if verdict not in {v.value for v in Verdict}:
        raise ReviewRejected(f"unknown verdict {verdict!r}")
    current = session.get(Turn, turn_id)
    if current is None:
        raise ReviewRejected(f"no turn {turn_id}")
    if current.review_status in (ReviewStatus.agreed, ReviewStatus.disputed) and not may_settle:
        raise ReviewRejected(f"this turn is already {current.review_status}; only an engineer can review it now")
    if verdict != Verdict.correct:
        corrected_answer = None  # an edit box left untouched is not a correction
        article_id = None  # only a correction moves the answer to another article
    create = ReviewCreate(
        turn_id=turn_id,
        reviewer_id=reviewer_id,
        verdict=verdict,
        corrected_answer=corrected_answer,
        article_id=(article_id or "").strip() or None,
        comment=(comment or "").strip() or None,
    )
    try:
        review_store.add_review(session=session, review_create=create, required=required)
    except IntegrityError as exc:
        session.rollback()
        raise ReviewRejected("you have already reviewed this turn") from exc
    except (ValueError, crud.NotFound) as exc:
        session.rollback()
        raise ReviewRejected(str(exc)) from exc
    return crud.get_turn(session=session, turn_id=turn_id)
