"""Keyword-only CRUD of staff login sessions (``ui.staff_sessions.SessionStore``): rows keyed by the token's hash,
never the token. Apart from ``chatbot.db.crud`` so that module stays one screenful per table."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from chatbot.db.models import StaffSession, User, utcnow


def create_staff_session(
    *, session: Session, token_hash: str, page: str, user: User, client: str | None = None, now: datetime | None = None
) -> StaffSession:
    now = now or utcnow()
    row = StaffSession(
        token_hash=token_hash,
        page=page[:32],
        user_id=user.id,
        username=user.username,
        issued_at=now,
        last_seen_at=now,
        client=client[:64] if client is not None else None,
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def get_staff_session(*, session: Session, token_hash: str, page: str) -> StaffSession | None:
    row = session.get(StaffSession, token_hash)
    return row if row is not None and row.page == page else None


def list_staff_sessions(*, session: Session, page: str) -> Sequence[StaffSession]:
    return session.exec(select(StaffSession).where(StaffSession.page == page)).all()


def touch_staff_session(*, session: Session, token_hash: str, now: datetime) -> None:
    stmt = update(StaffSession).where(col(StaffSession.token_hash) == token_hash).values(last_seen_at=now)
    session.execute(stmt.execution_options(synchronize_session=False))
    session.commit()


def delete_staff_session(*, session: Session, token_hash: str) -> bool:
    """Log one session out; False when it was already gone."""
    result = session.execute(delete(StaffSession).where(col(StaffSession.token_hash) == token_hash))
    session.commit()
    return bool(getattr(result, "rowcount", 0))


def delete_expired_staff_sessions(*, session: Session, seen_before: datetime, issued_before: datetime) -> int:
    """Delete sessions idle since ``seen_before`` or older than ``issued_before``; returns how many."""
    expired = (col(StaffSession.last_seen_at) < seen_before) | (col(StaffSession.issued_at) < issued_before)
    result = session.execute(delete(StaffSession).where(expired))
    session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def delete_user_staff_sessions(*, session: Session, user_id: uuid.UUID) -> None:
    """End every session of an account, in the caller's transaction (no commit)."""
    session.execute(delete(StaffSession).where(col(StaffSession.user_id) == user_id))
