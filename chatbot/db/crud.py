"""Keyword-only CRUD functions over a Session; callers own the transaction boundaries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from chatbot.db.models import (
    AuditEvent,
    BundleTurn,
    Conversation,
    EmbedderStatus,
    EmbedderVersion,
    ModelStatus,
    ModelVersion,
    ModelVersionCreate,
    Review,
    Role,
    Turn,
    TurnCreate,
    User,
    UserCreate,
    utcnow,
)
from chatbot.db.staff_session_crud import delete_user_staff_sessions
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


# --- reviews ----------------------------------------------------------------------------------------------
def turn_reviews(*, session: Session, turn_id: uuid.UUID) -> Sequence[Review]:
    stmt = select(Review).where(Review.turn_id == turn_id).order_by(col(Review.created_at))
    return session.exec(stmt).all()


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
    *,
    session: Session,
    version: str,
    path: str | None = None,
    metrics: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> str | None:
    """Make ``version`` (folder ``path``, relative to the artifact root) the production embedder, inserting its row
    or flipping an existing one (``path``/``metrics`` None: the row's own); the previous production row is retired
    first. No commit: the caller's transaction makes both changes visible at once. Returns the version it replaced
    (None: the configured embedder)."""
    now = now or utcnow()
    current = production_embedder(session=session)
    replaced = current.version if current is not None else None
    if current is not None and current.version != version:
        retire_production_embedder(session=session)
    row = get_embedder_version(session=session, version=version)
    if row is None:
        if path is None:
            raise NotFound(f"no embedder version {version!r}")
        row = EmbedderVersion(version=version, path=path)
    row.path = path if path is not None else row.path
    row.metrics = dict(metrics) if metrics is not None else row.metrics
    row.status, row.promoted_at = EmbedderStatus.production, now
    session.add(row)
    session.flush()
    return replaced if replaced != version else None


def retire_production_embedder(*, session: Session) -> str | None:
    """Retire the production embedder, so the configured one serves (no commit). Returns the retired version."""
    current = production_embedder(session=session)
    if current is None:
        return None
    current.status = EmbedderStatus.retired
    session.add(current)
    session.flush()  # retired first: the unique index allows one production row at every statement
    return current.version


def add_candidate_embedder(*, session: Session, version: str, path: str, metrics: dict[str, Any]) -> EmbedderVersion:
    """Record a fine-tuned embedder a candidate bundle names; nothing serves it until that bundle is promoted (no
    commit)."""
    row = get_embedder_version(session=session, version=version)
    if row is not None and row.status == EmbedderStatus.production:
        raise ValueError(f"embedder {version} is already in production")
    row = row or EmbedderVersion(version=version, path=path)
    row.path, row.metrics, row.status = path, dict(metrics), EmbedderStatus.candidate
    session.add(row)
    session.flush()
    return row
