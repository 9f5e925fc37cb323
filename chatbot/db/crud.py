"""Keyword-only CRUD functions over a Session; callers own the transaction boundaries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from chatbot.db.models import (
    AuditEvent,
    BundleTurn,
    Conversation,
    EmbedderStatus,
    EmbedderVersion,
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
from chatbot.db.staff_session_crud import delete_user_staff_sessions
from chatbot.pii import redact
from chatbot.review import ReviewVote, consensus
from chatbot.security import MIN_PASSWORD_CHARS, hash_password


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


def authenticate(*, session: Session, username: str, password: str, **context: Any) -> User | None:
    """The account when the login may proceed, else None. Counts the attempt and audits it: see
    ``chatbot.staff_login.attempt_login`` (keyword ``context``: policy, allowed_roles, client, page, now)."""
    from chatbot.staff_login import attempt_login

    return attempt_login(session=session, username=username, password=password, **context).user


def list_users(*, session: Session) -> Sequence[User]:
    return session.exec(select(User).order_by(col(User.username))).all()


def _existing_user(session: Session, username: str) -> User:
    user = get_user_by_username(session=session, username=username)
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def set_user_disabled(*, session: Session, username: str, disabled: bool) -> User:
    """Disable (its sessions are deleted) or enable an account; enabling also lifts a lockout."""
    user = _existing_user(session, username)
    user.disabled = disabled
    if disabled:
        delete_user_staff_sessions(session=session, user_id=user.id)
    else:
        user.failed_logins, user.locked_until = 0, None
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


def reset_password(*, session: Session, username: str, password: str, now: datetime | None = None) -> User:
    """Set a new password: the account's open sessions end and a lockout is lifted."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
    user = _existing_user(session, username)
    user.password_hash = hash_password(password)
    user.password_changed_at = now or utcnow()
    user.failed_logins, user.locked_until = 0, None
    delete_user_staff_sessions(session=session, user_id=user.id)
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


# --- audit log -------------------------------------------------------------------------------------------
def add_audit_event(
    *,
    session: Session,
    actor: str,
    action: str,
    role: str | None = None,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
    client: str | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Add one audit row to the caller's transaction (no commit)."""
    event = AuditEvent(
        actor=actor[:64],
        action=action[:32],
        role=role,
        target=target[:255] if target is not None else None,
        detail=detail or {},
        client=client[:64] if client is not None else None,
        at=at or utcnow(),
    )
    session.add(event)
    return event


def count_audit_events(*, session: Session, actions: Sequence[str], client: str, since: datetime) -> int:
    from sqlalchemy import func

    stmt = (
        select(func.count())
        .select_from(AuditEvent)
        .where(col(AuditEvent.client) == client)
        .where(col(AuditEvent.action).in_(list(actions)))
        .where(col(AuditEvent.at) >= since)
    )
    return int(session.exec(stmt).one())


def latest_audit_events(*, session: Session, limit: int = 100) -> Sequence[AuditEvent]:
    return session.exec(select(AuditEvent).order_by(col(AuditEvent.at).desc()).limit(limit)).all()


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
def _redact_optional(text: str | None) -> str | None:
    return None if text is None else redact(text)[0]


def set_feedback(*, session: Session, turn_id: uuid.UUID, rating: int, comment: str | None = None) -> Feedback:
    """Record the customer's thumbs; a second click on the same turn updates the row."""
    if rating not in (1, -1):
        raise ValueError("rating must be +1 or -1")
    get_turn(session=session, turn_id=turn_id)
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
def turn_reviews(*, session: Session, turn_id: uuid.UUID) -> Sequence[Review]:
    stmt = select(Review).where(Review.turn_id == turn_id).order_by(col(Review.created_at))
    return session.exec(stmt).all()


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


def _locked_turn(*, session: Session, turn_id: uuid.UUID) -> Turn:
    """The turn, locked until the transaction ends: SELECT … FOR UPDATE on PostgreSQL; on SQLite a write that
    changes nothing takes the database's write lock (SQLite has no row locks and renders no FOR UPDATE)."""
    if session.get_bind().dialect.name == "sqlite":
        touch = update(Turn).where(col(Turn.id) == turn_id).values(review_status=Turn.review_status)
        session.execute(touch.execution_options(synchronize_session=False))
    stmt = select(Turn).where(Turn.id == turn_id).with_for_update().execution_options(populate_existing=True)
    turn = session.exec(stmt).first()
    if turn is None:
        raise NotFound(f"no turn {turn_id}")
    return turn


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


# --- embedder versions (retrieval.embedder_registry) ------------------------------------------------------------
def production_embedder(*, session: Session) -> EmbedderVersion | None:
    """The production ``EmbedderVersion`` row, or None when the configured embedder is in use."""
    return session.exec(select(EmbedderVersion).where(EmbedderVersion.status == EmbedderStatus.production)).first()


def get_embedder_version(*, session: Session, version: str) -> EmbedderVersion | None:
    return session.exec(select(EmbedderVersion).where(EmbedderVersion.version == version)).first()


def set_production_embedder(
    *, session: Session, version: str, path: str, metrics: dict[str, Any], now: datetime | None = None
) -> str | None:
    """Make ``version`` (folder ``path``, relative to the artifact root) the production embedder, inserting its row
    or flipping an existing one; the previous production row is retired first. No commit: the caller's transaction
    makes both changes visible at once. Returns the version it replaced (None: the configured embedder)."""
    now = now or utcnow()
    current = production_embedder(session=session)
    replaced = current.version if current is not None else None
    if current is not None and current.version != version:
        current.status = EmbedderStatus.retired
        session.add(current)
        session.flush()  # retired first: the unique index allows one production row at every statement
    row = get_embedder_version(session=session, version=version) or EmbedderVersion(version=version, path=path)
    row.path, row.metrics = path, dict(metrics)
    row.status, row.promoted_at = EmbedderStatus.production, now
    session.add(row)
    session.flush()
    return replaced if replaced != version else None
