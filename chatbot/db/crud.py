"""Keyword-only CRUD functions over a Session; callers own the transaction boundaries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlmodel import Session, col, select

from chatbot.db.models import (
    BundleTurn,
    Conversation,
    Feedback,
    ModelStatus,
    ModelVersion,
    ModelVersionCreate,
    Review,
    ReviewCreate,
    Role,
    Turn,
    TurnCreate,
    User,
    UserCreate,
    utcnow,
)
from chatbot.review import ReviewVote, consensus
from chatbot.security import hash_password, verify_password


class NotFound(LookupError):
    pass


# --- users ---------------------------------------------------------------------------------------------
def create_user(*, session: Session, user_create: UserCreate) -> User:
    if user_create.role not in {r.value for r in Role}:
        raise ValueError(f"role must be one of {', '.join(r.value for r in Role)}, not {user_create.role!r}")
    if get_user_by_username(session=session, username=user_create.username) is not None:
        raise ValueError(f"user {user_create.username!r} already exists")
    user = User(
        username=user_create.username,
        role=user_create.role,
        password_hash=hash_password(user_create.password),
    )
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


def get_user_by_username(*, session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def authenticate(*, session: Session, username: str, password: str) -> User | None:
    user = get_user_by_username(session=session, username=username)
    if user is None or not verify_password(password, user.password_hash):
        return None
    return user


# --- turns -----------------------------------------------------------------------------------------------
def create_turn(*, session: Session, turn_create: TurnCreate) -> Turn:
    """Insert a turn (and its conversation when new). Idempotent on turn id so a spooled replay is safe."""
    if turn_create.id is not None:
        existing = session.get(Turn, turn_create.id)
        if existing is not None:
            return existing
    conversation_id = turn_create.conversation_id or uuid.uuid4()
    if session.get(Conversation, conversation_id) is None:
        session.add(Conversation(id=conversation_id))
        session.flush()  # the turn's foreign key needs the conversation row first (PostgreSQL checks at once)
    data = turn_create.model_dump(exclude_none=True)
    data["conversation_id"] = conversation_id
    turn = Turn(**data)
    session.add(turn)
    session.commit()
    session.refresh(turn)
    return turn


def get_turn(*, session: Session, turn_id: uuid.UUID) -> Turn:
    turn = session.get(Turn, turn_id)
    if turn is None:
        raise NotFound(f"no turn {turn_id}")
    return turn


# --- feedback --------------------------------------------------------------------------------------------
def set_feedback(*, session: Session, turn_id: uuid.UUID, rating: int, comment: str | None = None) -> Feedback:
    """Record the customer's thumbs; a second click on the same turn updates the row."""
    if rating not in (1, -1):
        raise ValueError("rating must be +1 or -1")
    get_turn(session=session, turn_id=turn_id)
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
def turn_reviews(*, session: Session, turn_id: uuid.UUID) -> Sequence[Review]:
    stmt = select(Review).where(Review.turn_id == turn_id).order_by(col(Review.created_at))
    return session.exec(stmt).all()


def add_review(*, session: Session, review_create: ReviewCreate, required: int) -> Review:
    """Store one reviewer's verdict and recompute the turn's consensus in the same transaction.

    The unique constraint (turn, reviewer) rejects a second review by the same person.
    """
    from chatbot.db.models import Verdict

    if review_create.verdict not in {v.value for v in Verdict}:
        raise ValueError(f"verdict must be one of {', '.join(v.value for v in Verdict)}")
    if review_create.verdict == Verdict.correct and not (review_create.corrected_answer or "").strip():
        raise ValueError("a correction needs the corrected answer")
    turn = get_turn(session=session, turn_id=review_create.turn_id)
    review = Review.model_validate(review_create)
    session.add(review)
    session.flush()
    votes = [
        ReviewVote(r.verdict, r.corrected_answer, r.article_id) for r in turn_reviews(session=session, turn_id=turn.id)
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


# --- model registry ------------------------------------------------------------------------------------------
def production_model(*, session: Session) -> ModelVersion | None:
    stmt = (
        select(ModelVersion)
        .where(ModelVersion.status == ModelStatus.production)
        .order_by(col(ModelVersion.promoted_at).desc())
    )
    return session.exec(stmt).first()


def get_model_version(*, session: Session, version: str) -> ModelVersion | None:
    return session.exec(select(ModelVersion).where(ModelVersion.version == version)).first()


def create_model_version(*, session: Session, model_create: ModelVersionCreate, status: str) -> ModelVersion:
    """Insert a bundle row (no commit: the caller adds its lineage in the same transaction)."""
    row = ModelVersion.model_validate(model_create, update={"status": status})
    session.add(row)
    session.flush()
    return row


def next_index_snapshot(*, session: Session) -> int:
    """A snapshot number no bundle has used: entries are written under it before the bundle is judged."""
    from sqlalchemy import func

    newest = session.exec(select(func.max(ModelVersion.index_snapshot))).one()
    return int(newest or 0) + 1


def set_lineage(*, session: Session, bundle_id: uuid.UUID, role: str, turn_ids: Sequence[str | uuid.UUID]) -> int:
    """Replace the bundle's turns of one role (no commit). Ids of turns that do not exist are ignored."""
    from sqlalchemy import delete

    wanted = list(dict.fromkeys(uuid.UUID(str(t)) for t in turn_ids))
    session.execute(
        delete(BundleTurn).where(col(BundleTurn.bundle_id) == bundle_id).where(col(BundleTurn.role) == role)
    )
    existing: set[uuid.UUID] = set()
    for start in range(0, len(wanted), 500):  # bounded IN lists
        chunk = wanted[start : start + 500]
        existing.update(session.exec(select(Turn.id).where(col(Turn.id).in_(chunk))).all())
    session.add_all(BundleTurn(bundle_id=bundle_id, turn_id=t, role=role) for t in wanted if t in existing)
    session.flush()
    return len(existing)


def lineage(*, session: Session, bundle_id: uuid.UUID) -> dict[str, list[str]]:
    """role -> the bundle's turn ids (sorted)."""
    rows = session.exec(select(BundleTurn.role, BundleTurn.turn_id).where(BundleTurn.bundle_id == bundle_id)).all()
    out: dict[str, list[str]] = {}
    for role, turn_id in rows:
        out.setdefault(role, []).append(str(turn_id))
    return {role: sorted(ids) for role, ids in sorted(out.items())}
