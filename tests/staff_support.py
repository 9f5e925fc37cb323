"""Shared by the staff-account tests: an app with two accounts, a login helper and the audit actions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from chatbot.app import build_app
from chatbot.db import crud
from chatbot.db.models import AuditEvent, UserCreate
from chatbot.staff_login import LoginPolicy, attempt_login
from tests.conftest import make_settings

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
POLICY = LoginPolicy(max_failures=3, lockout=timedelta(minutes=15), client_max_failures=100)
PASSWORDS = {"rita": "rita-pass-1", "eve": "eve-pass-1"}


def staff_app(tmp_path: Path, database_url: str) -> Iterator[Any]:
    """An app on ``database_url`` with reviewer rita and engineer eve, disposed afterwards."""
    app = build_app(make_settings(tmp_path, database_url=database_url))
    app.upgrade_database()
    with app.session() as session:
        for name, role in [("rita", "reviewer"), ("eve", "engineer")]:
            user_create = UserCreate(username=name, role=role, password=PASSWORDS[name])
            crud.create_user(session=session, user_create=user_create)
    yield app
    app.engine.dispose()


def login(bot: Any, name: str, password: str, **kw: Any) -> str:
    kw.setdefault("policy", POLICY)
    with bot.session() as session:
        return attempt_login(session=session, username=name, password=password, **kw).outcome


def actions(bot: Any) -> list[tuple[str, str, str | None, str | None]]:
    with bot.session() as session:
        events = session.exec(select(AuditEvent).order_by(col(AuditEvent.at), col(AuditEvent.action))).all()
        return [(e.actor, e.action, e.detail.get("reason"), e.client) for e in events]
