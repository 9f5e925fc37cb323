"""Staff accounts: the login rules (lockout, throttling, constant-time unknown users, disabled accounts, resets),
the pure session and cookie rules, and migration 0004 — on SQLite and the real PostgreSQL."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlmodel import Session

from chatbot.app import build_app
from chatbot.db import crud
from chatbot.db.engine import make_engine
from chatbot.db.migrate import downgrade, upgrade
from chatbot.db.models import UserCreate
from chatbot.security import client_address, session_alive, session_revoked
from chatbot.staff_login import LoginPolicy
from tests.conftest import make_settings
from tests.staff_support import PASSWORDS, T0, staff_app
from tests.staff_support import actions as _actions
from tests.staff_support import login as _login
from ui.auth import DASHBOARD_ROLES, REVIEW_ROLES, AccessDenied, current_user, harden_cookie


@pytest.fixture
def bot(tmp_path: Path, database_url: str) -> Iterator[Any]:
    yield from staff_app(tmp_path, database_url)


# --- the login rules, on both databases ----------------------------------------------------------------------
def test_lockout_after_failures_refuses_even_the_right_password_until_it_runs_out(bot: Any) -> None:
    at = [T0 + timedelta(minutes=m) for m in range(5)]
    outcomes = [
        _login(bot, "eve", "guess-1", now=at[0], client="10.0.0.9"),
        _login(bot, "eve", "guess-2", now=at[1], client="10.0.0.9"),
        _login(bot, "eve", "guess-3", now=at[2], client="10.0.0.9"),
        _login(bot, "eve", PASSWORDS["eve"], now=at[3], client="10.0.0.9"),
        _login(bot, "eve", PASSWORDS["eve"], now=at[2] + timedelta(minutes=15), client="10.0.0.9"),
    ]
    assert outcomes == ["bad_password", "bad_password", "lockout", "locked", "ok"]
    assert _actions(bot) == [
        ("eve", "login_failure", "bad_password", "10.0.0.9"),
        ("eve", "login_failure", "bad_password", "10.0.0.9"),
        ("eve", "login_lockout", "lockout", "10.0.0.9"),
        ("eve", "login_refused", "locked", "10.0.0.9"),
        ("eve", "login_success", None, "10.0.0.9"),
    ]
    with bot.session() as session:
        eve = crud.get_user_by_username(session=session, username="eve")
        assert eve is not None and eve.failed_logins == 0 and eve.locked_until is None
        assert eve.last_login_at is not None and eve.last_login_at.replace(tzinfo=UTC) == at[2] + timedelta(minutes=15)


def test_concurrent_failures_are_all_counted_and_lock_once(bot: Any) -> None:
    """Five wrong passwords at the same instant (five sessions, as on five replicas): the atomic increment counts
    each, so exactly one of them locks the account."""
    policy = LoginPolicy(max_failures=5, lockout=timedelta(minutes=15), client_max_failures=100)
    barrier = threading.Barrier(5, timeout=30)
    outcomes: list[str] = []

    def guess(n: int) -> None:
        barrier.wait()
        outcomes.append(_login(bot, "eve", f"guess-{n}", now=T0, policy=policy))

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a login did not finish within 60 s"
    assert sorted(outcomes) == ["bad_password"] * 4 + ["lockout"]
    assert _login(bot, "eve", PASSWORDS["eve"], now=T0, policy=policy) == "locked"


def test_a_success_resets_the_count_and_a_wrong_role_is_refused_without_counting(bot: Any) -> None:
    assert _login(bot, "rita", "nope-1", now=T0) == "bad_password"
    assert _login(bot, "rita", "nope-2", now=T0) == "bad_password"
    assert _login(bot, "rita", PASSWORDS["rita"], now=T0, allowed_roles=REVIEW_ROLES) == "ok"
    assert _login(bot, "rita", "nope-3", now=T0) == "bad_password"  # counting starts again: no lockout yet
    assert _login(bot, "rita", PASSWORDS["rita"], now=T0, allowed_roles=DASHBOARD_ROLES) == "wrong_role"
    with bot.session() as session:
        rita = crud.get_user_by_username(session=session, username="rita")
        assert rita is not None and rita.failed_logins == 1 and rita.locked_until is None


def test_disabled_accounts_and_password_resets(bot: Any) -> None:
    with bot.session() as session:
        crud.set_user_disabled(session=session, username="rita", disabled=True)
    assert _login(bot, "rita", PASSWORDS["rita"], now=T0) == "disabled"
    with pytest.raises(AccessDenied, match="disabled"):
        current_user(bot, "rita", REVIEW_ROLES)
    for _ in range(3):
        _login(bot, "eve", "wrong-guess", now=T0)
    assert _login(bot, "eve", PASSWORDS["eve"], now=T0) == "locked"
    with bot.session() as session:
        crud.set_user_disabled(session=session, username="rita", disabled=False)
        eve = crud.reset_password(session=session, username="eve", password="a-new-pass-2", now=T0)
        assert eve.failed_logins == 0 and eve.locked_until is None
        with pytest.raises(ValueError, match="8 characters"):
            crud.reset_password(session=session, username="eve", password="short")
        with pytest.raises(crud.NotFound):
            crud.set_user_disabled(session=session, username="nobody", disabled=True)
    assert current_user(bot, "rita", REVIEW_ROLES).username == "rita"
    assert _login(bot, "eve", PASSWORDS["eve"], now=T0) == "bad_password"
    assert _login(bot, "eve", "a-new-pass-2", now=T0) == "ok"


def test_one_address_guessing_many_names_is_throttled_but_others_are_not(bot: Any) -> None:
    policy = LoginPolicy(max_failures=5, lockout=timedelta(minutes=15), client_max_failures=3)
    guesses = [_login(bot, name, "password1", now=T0, client="203.0.113.7", policy=policy) for name in "abc"]
    assert guesses == ["unknown_user"] * 3
    right = PASSWORDS["rita"]
    assert _login(bot, "rita", right, now=T0, client="203.0.113.7", policy=policy) == "client_throttled"
    assert _login(bot, "rita", right, now=T0, client="198.51.100.1", policy=policy) == "ok"
    later = T0 + timedelta(minutes=16)
    assert _login(bot, "rita", right, now=later, client="203.0.113.7", policy=policy) == "ok"


def test_unknown_users_take_as_long_as_known_ones() -> None:
    """One scrypt either way (a dummy hash for unknown names): median of 5 each within 3x, a generous bound."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(make_settings(Path(tmp)))
        app.upgrade_database()
        with app.session() as session:
            crud.create_user(session=session, user_create=UserCreate(username="eve", role="engineer", password="x" * 9))
        policy = LoginPolicy(max_failures=1000, client_max_failures=1000)

        def timed(name: str) -> float:
            start = time.perf_counter()
            assert _login(app, name, "wrong-password", policy=policy) in {"bad_password", "unknown_user"}
            return time.perf_counter() - start

        timed("warm-up")
        known = statistics.median(timed("eve") for _ in range(5))
        unknown = statistics.median(timed(f"ghost{n}") for n in range(5))
        app.engine.dispose()
    assert 1 / 3 < unknown / known < 3, (known, unknown)
    assert unknown > 0.005  # an unknown name really pays for a hash (scrypt takes tens of ms here)


# --- the pure rules --------------------------------------------------------------------------------------------
def test_session_lifetime_rules() -> None:
    idle, max_age = timedelta(minutes=30), timedelta(hours=12)
    assert session_alive(issued=T0, last_seen=T0, now=T0 + timedelta(minutes=29), idle=idle, max_age=max_age)
    assert not session_alive(issued=T0, last_seen=T0, now=T0 + timedelta(minutes=30), idle=idle, max_age=max_age)
    busy = T0 + timedelta(hours=11, minutes=59)
    assert session_alive(issued=T0, last_seen=busy, now=busy + timedelta(seconds=30), idle=idle, max_age=max_age)
    assert not session_alive(issued=T0, last_seen=busy, now=T0 + timedelta(hours=12), idle=idle, max_age=max_age)
    assert not session_revoked(issued=T0, disabled=False, password_changed_at=None)
    assert session_revoked(issued=T0, disabled=True, password_changed_at=None)
    assert session_revoked(
        issued=T0, disabled=False, password_changed_at=(T0 + timedelta(seconds=1)).replace(tzinfo=None)
    )
    assert not session_revoked(issued=T0, disabled=False, password_changed_at=T0 - timedelta(days=1))


def test_client_address_honours_forwarded_for_only_from_trusted_proxies() -> None:
    proxies = ["10.0.0.0/8", "127.0.0.1"]
    assert client_address("198.51.100.4", "1.2.3.4", proxies) == "198.51.100.4"  # not a proxy: header ignored
    assert client_address("127.0.0.1", "1.2.3.4", proxies) == "1.2.3.4"
    assert client_address("10.1.2.3", "6.6.6.6, 1.2.3.4, 10.0.0.7", proxies) == "1.2.3.4"  # spoofed left entry
    assert client_address("127.0.0.1", None, proxies) == "127.0.0.1"
    assert client_address("testclient", "1.2.3.4", proxies) == "testclient"


def test_login_cookies_get_samesite_and_secure_only_over_https() -> None:
    secure = "access-token-abc=tok; HttpOnly; Path=/; SameSite=none; Secure"
    plain = "access-token-unsecure-abc=tok; HttpOnly; Path=/; SameSite=lax"
    assert (
        harden_cookie(secure, https=True, samesite="strict")
        == "access-token-abc=tok; HttpOnly; Path=/; SameSite=Strict; Secure"
    )
    assert harden_cookie(plain, https=True, samesite="strict") is None
    assert harden_cookie(secure, https=False, samesite="lax") == "access-token-abc=tok; HttpOnly; Path=/; SameSite=Lax"
    assert harden_cookie(plain, https=False, samesite="strict") == (
        "access-token-unsecure-abc=tok; HttpOnly; Path=/; SameSite=Strict"
    )
    assert harden_cookie("other=1; Path=/", https=True, samesite="strict") == "other=1; Path=/"


def test_migration_0004_keeps_accounts_and_downgrades(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0003")
    with engine.begin() as conn:
        conn.execute(
            text(
                'INSERT INTO "user" (id, username, role, password_hash, created_at) '
                "VALUES (:id, 'old', 'reviewer', 'x', CURRENT_TIMESTAMP)"
            ),
            {"id": "0" * 32 if engine.dialect.name == "sqlite" else "00000000-0000-0000-0000-000000000000"},
        )
    upgrade(engine, "0004")
    assert "audit_event" in inspect(engine).get_table_names()
    with Session(engine) as session:
        old = crud.get_user_by_username(session=session, username="old")
        assert old is not None and (old.disabled, old.failed_logins, old.locked_until) == (False, 0, None)
    downgrade(engine, "0003")
    columns = {c["name"] for c in inspect(engine).get_columns("user")}
    assert "audit_event" not in inspect(engine).get_table_names()
    assert not columns & {"disabled", "failed_logins", "locked_until", "password_changed_at", "last_login_at"}
    with engine.connect() as conn:
        assert conn.execute(text('SELECT username FROM "user"')).scalars().all() == ["old"]
    engine.dispose()
