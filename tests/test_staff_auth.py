"""Staff accounts: throttled logins with lockout, constant-time unknown users, expiring sessions, disabled accounts,
hardened cookies, `bankbot users`, and the audit log — on SQLite and the real PostgreSQL, through the real server."""

from __future__ import annotations

import socket
import statistics
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlmodel import Session, col, select

from chatbot.app import build_app
from chatbot.db import crud
from chatbot.db.engine import make_engine
from chatbot.db.migrate import downgrade, upgrade
from chatbot.db.models import AuditEvent, UserCreate
from chatbot.security import client_address, session_alive, session_revoked
from chatbot.staff_login import LoginPolicy, attempt_login
from tests.conftest import make_settings
from ui.auth import DASHBOARD_ROLES, REVIEW_ROLES, AccessDenied, SessionStore, current_user, harden_cookie

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
POLICY = LoginPolicy(max_failures=3, lockout=timedelta(minutes=15), client_max_failures=100)
PASSWORDS = {"rita": "rita-pass-1", "eve": "eve-pass-1"}


@pytest.fixture
def bot(tmp_path: Path, database_url: str) -> Any:
    app = build_app(make_settings(tmp_path, database_url=database_url))
    app.upgrade_database()
    with app.session() as session:
        for name, role in [("rita", "reviewer"), ("eve", "engineer")]:
            user_create = UserCreate(username=name, role=role, password=PASSWORDS[name])
            crud.create_user(session=session, user_create=user_create)
    yield app
    app.engine.dispose()


def _login(bot: Any, name: str, password: str, **kw: Any) -> str:
    kw.setdefault("policy", POLICY)
    with bot.session() as session:
        return attempt_login(session=session, username=name, password=password, **kw).outcome


def _actions(bot: Any) -> list[tuple[str, str, str | None, str | None]]:
    with bot.session() as session:
        events = session.exec(select(AuditEvent).order_by(col(AuditEvent.at), col(AuditEvent.action))).all()
        return [(e.actor, e.action, e.detail.get("reason"), e.client) for e in events]


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


def test_session_store_expires_idle_and_old_sessions_and_revoked_accounts() -> None:
    now = [T0]
    revoked_names: set[str] = set()
    store = SessionStore(
        idle=timedelta(minutes=30),
        max_age=timedelta(hours=2),
        revoked=lambda name, issued: name in revoked_names,
        clock=lambda: now[0],
    )
    store["t1"] = "rita"
    store["t2"] = "eve"
    for minutes in (20, 40, 60, 80, 100):  # rita keeps clicking every 20 minutes
        now[0] = T0 + timedelta(minutes=minutes)
        assert store.get("t1") == "rita"
    assert store.get("t2") is None and "t2" not in store  # eve went idle
    now[0] = T0 + timedelta(hours=2)
    assert store.get("t1") is None  # the absolute limit, however busy
    store["t3"] = "eve"
    assert store.get("t3") == "eve"
    revoked_names.add("eve")
    assert store.get("t3") is None and "t3" not in store
    assert store.get(None) is None and store.get("never-issued") is None
    store["t4"], store["t5"] = "rita", "rita"
    now[0] += timedelta(hours=3)
    store["t6"] = "rita"  # a new login sweeps the expired sessions out
    assert set(store) == {"t6"}


# --- migration 0004 --------------------------------------------------------------------------------------------
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


# --- the real server over HTTP ---------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_server(app: Any) -> Iterator[str]:
    """The app's real server (ui.server.create_server) under uvicorn on a free localhost port, stopped after."""
    import uvicorn

    from ui.server import create_server

    port = _free_port()
    # proxy_headers off, as `bankbot serve` runs it: only settings.trusted_proxies may name another client.
    config = uvicorn.Config(create_server(app), host="127.0.0.1", port=port, log_level="warning", proxy_headers=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def served(bot: Any) -> Iterator[str]:
    yield from _run_server(bot)


def _wait_for_status(client: Any, url: str, status: int, seconds: float = 10.0) -> int:
    deadline = time.monotonic() + seconds
    got = client.get(url).status_code
    while got != status and time.monotonic() < deadline:
        time.sleep(0.2)
        got = client.get(url).status_code
    return int(got)


def test_server_locks_out_audits_and_ends_sessions_of_disabled_accounts(bot: Any, served: str) -> None:
    import httpx

    # The attacker claims to be elsewhere, and on HTTPS: 127.0.0.1 is no trusted proxy here, so neither counts.
    spoofed = {"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https"}
    rita = httpx.Client(base_url=served, timeout=30)
    with rita, httpx.Client(base_url=served, timeout=30, headers=spoofed) as attacker:
        logged = rita.post("/review/login", data={"username": "rita", "password": PASSWORDS["rita"]})
        assert logged.status_code == 200
        cookies = logged.headers.get_list("set-cookie")
        assert cookies and all("SameSite=Strict" in c and "Secure" not in c for c in cookies)  # plain HTTP
        assert rita.get("/review/config").status_code == 200
        for n in range(5):  # the default policy: five failures lock the account
            assert (
                attacker.post("/dashboard/login", data={"username": "eve", "password": f"guess-{n}"}).status_code == 400
            )
        right = {"username": "eve", "password": PASSWORDS["eve"]}
        assert attacker.post("/dashboard/login", data=right).status_code == 400  # locked: the same answer
        with bot.session() as session:
            crud.set_user_disabled(session=session, username="rita", disabled=True)
        assert _wait_for_status(rita, "/review/config", 401) == 401  # her open session ends
    events = _actions(bot)
    assert ("rita", "login_success", None, "127.0.0.1") in events
    assert {client for *_, client in events} == {"127.0.0.1"}  # the spoofed X-Forwarded-For is ignored
    assert [e[1] for e in events if e[0] == "eve"] == ["login_failure"] * 4 + ["login_lockout", "login_refused"]
    with bot.session() as session:
        pages = {e.detail.get("page") for e in crud.latest_audit_events(session=session)}
    assert pages == {"/review", "/dashboard"}


def test_server_sessions_expire_when_idle_and_cookies_are_secure_behind_https(tmp_path: Path) -> None:
    import httpx

    settings = make_settings(tmp_path, staff_session_idle_minutes=0.03, trusted_proxies=["127.0.0.1"])  # idle: 1.8 s
    app = build_app(settings)
    app.upgrade_database()
    with app.session() as session:
        crud.create_user(
            session=session, user_create=UserCreate(username="eve", role="engineer", password="eve-pass-1")
        )
    for url in _run_server(app):
        with httpx.Client(base_url=url, timeout=30) as eve:
            # a TLS-terminating proxy on 127.0.0.1, listed in trusted_proxies, says the client came over HTTPS
            logged = eve.post(
                "/dashboard/login",
                data={"username": "eve", "password": "eve-pass-1"},
                headers={"X-Forwarded-Proto": "https"},
            )
            assert logged.status_code == 200
            cookies = logged.headers.get_list("set-cookie")
            assert len(cookies) == 1 and "unsecure" not in cookies[0]
            assert "SameSite=Strict" in cookies[0] and cookies[0].endswith("Secure")
            token = cookies[0].split(";")[0]
            headers = {"Cookie": token, "X-Forwarded-Proto": "https"}
            assert eve.get("/dashboard/config", headers=headers).status_code == 200
            time.sleep(2.0)
            assert eve.get("/dashboard/config", headers=headers).status_code == 401
    app.engine.dispose()


# --- `bankbot users` ------------------------------------------------------------------------------------------
def test_users_command_manages_accounts_and_audits_them(tmp_path: Path) -> None:
    from tests.test_cli import bankbot

    env = {"BANKBOT_DATA_DIR": str(tmp_path)}
    added = bankbot("users", "add", "rita", "--role", "reviewer", "--password-stdin", env=env, stdin="rita-pass-1\n")
    assert added.returncode == 0, added.stderr
    assert bankbot("users", "disable", "rita", env=env).stdout == "disabled reviewer rita\n"
    listed = bankbot("users", "list", env=env).stdout.splitlines()
    assert listed[0] == "username\trole\tdisabled\tlast login (UTC)\tlocked until (UTC)\tcreated"
    assert listed[1].startswith("rita\treviewer\tyes\t-\t-\t")
    assert bankbot("users", "enable", "rita", env=env).returncode == 0
    reset = bankbot("users", "reset-password", "rita", "--password-stdin", env=env, stdin="brand-new-pass\n")
    assert reset.returncode == 0 and "open sessions end" in reset.stdout
    short = bankbot("users", "reset-password", "rita", "--password-stdin", env=env, stdin="short\n")
    assert short.returncode != 0 and "8 characters" in short.stderr
    missing = bankbot("users", "disable", "nobody", env=env)
    assert missing.returncode != 0 and "nobody" in missing.stderr and "Traceback" not in missing.stderr
    app = build_app(make_settings(tmp_path, data_dir=tmp_path))
    with app.session() as session:
        rita = crud.get_user_by_username(session=session, username="rita")
        assert rita is not None and not rita.disabled and rita.password_changed_at is not None
        events = list(reversed(crud.latest_audit_events(session=session)))
    assert [(e.action, e.target, e.client) for e in events] == [
        ("user_added", "rita", "cli"),
        ("user_disabled", "rita", "cli"),
        ("user_enabled", "rita", "cli"),
        ("password_reset", "rita", "cli"),
    ]
    assert all(e.actor.startswith("cli:") for e in events)
    app.engine.dispose()


# --- staff actions through the real pages ---------------------------------------------------------------------
def test_reviews_and_registry_actions_are_audited_and_engineers_see_the_log(tmp_path: Path, embedder: Any) -> None:
    """A reviewer's verdict and an engineer's rollback, sent through the pages' own event API (gradio_client), land
    in the audit log with who and from where; the dashboard's Audit log tab shows them."""
    from gradio_client import Client

    from chatbot.db.models import TurnCreate

    app = build_app(make_settings(tmp_path), embedder=embedder)
    app.upgrade_database()
    with app.session() as session:
        for name, role in [("rita", "reviewer"), ("eve", "engineer")]:
            user_create = UserCreate(username=name, role=role, password=PASSWORDS[name])
            crud.create_user(session=session, user_create=user_create)
        turn = crud.create_turn(
            session=session, turn_create=TurnCreate(question="Where is my card?", answer="In the post [1].")
        )
    filters = ["", "", 0, 1, "any", "", "open"]
    for url in _run_server(app):
        rita = Client(f"{url}/review/", auth=("rita", PASSWORDS["rita"]), verbose=False)
        rita.predict(*filters, api_name="/on_load")  # loads the queue: the turn is selected
        rita.predict("", None, "fine", *filters, api_name="/handler")  # the first verdict button: approve
        eve = Client(f"{url}/dashboard/", auth=("eve", PASSWORDS["eve"]), verbose=False)
        message, _ = eve.predict(None, True, api_name="/handler_1")  # roll back, confirmed: nothing to roll back
        assert message.startswith("Not done")
        shown = eve.predict(api_name="/show")  # the Audit log tab
    rows = [row[:5] + row[6:] for row in reversed(shown["data"])]
    assert rows == [
        [rows[0][0], "rita", "reviewer", "login_success", "", "127.0.0.1"],
        [rows[1][0], "rita", "reviewer", "review_submitted", str(turn.id), "127.0.0.1"],
        [rows[2][0], "eve", "engineer", "login_success", "", "127.0.0.1"],
        [rows[3][0], "eve", "engineer", "rollback", "", "127.0.0.1"],
    ]
    assert shown["headers"][3] == "action"
    app.engine.dispose()
