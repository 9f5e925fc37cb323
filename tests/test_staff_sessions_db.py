"""Staff login sessions kept in the database: a session opened through one app object (one replica) is accepted by
another on the same database and survives a restart of the real server; idle and absolute expiry; revocation when
an account is disabled or its password reset; logout; a dead database; only token hashes stored. And the bundle
watcher that makes a replica switch to a bundle promoted elsewhere. On SQLite and the real PostgreSQL."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlmodel import Session, select

from chatbot.app import build_app
from chatbot.db import crud
from chatbot.db.engine import make_engine
from chatbot.db.migrate import downgrade, upgrade
from chatbot.db.models import ModelVersion, StaffSession
from chatbot.security import as_utc
from tests.conftest import make_settings
from tests.staff_support import PASSWORDS, T0, staff_app
from tests.waiting import wait_for
from ui.auth import DASHBOARD_ROLES, REVIEW_ROLES, account_checker
from ui.staff_sessions import SessionStore, StoredSession

IDLE, MAX_AGE = timedelta(minutes=30), timedelta(hours=2)
DEADLINE_S = 30.0  # generous: the suite shares two cores with other work


@pytest.fixture
def bot(tmp_path: Path, database_url: str) -> Iterator[Any]:
    yield from staff_app(tmp_path, database_url)


@pytest.fixture
def replica(bot: Any) -> Iterator[Any]:
    """A second app object on the same database: its own engine and pool, as another process would have."""
    other = build_app(bot.settings)
    yield other
    other.engine.dispose()


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> Any:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def store(app: Any, clock: Callable[[], Any], page: str = "/review", cache_seconds: float = 0.0) -> SessionStore:
    allowed = REVIEW_ROLES if page == "/review" else DASHBOARD_ROLES
    return SessionStore(
        app=app,
        page=page,
        idle=IDLE,
        max_age=MAX_AGE,
        revoked=account_checker(app, allowed, cache_seconds=cache_seconds),
        clock=clock,
        cache_seconds=cache_seconds,
    )


def stored_rows(app: Any) -> list[dict[str, Any]]:
    with app.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(text("SELECT * FROM staff_session"))]


# --- sessions across replicas ------------------------------------------------------------------------------------
def test_a_session_from_one_replica_opens_the_page_on_another_and_only_its_hash_is_stored(
    bot: Any, replica: Any
) -> None:
    clock = Clock()
    first, second = store(bot, clock), store(replica, clock)
    token = "rita-token-Zq3xY8"
    first[token] = "rita"
    assert second.get(token) == "rita" and token in second
    assert store(replica, clock, page="/dashboard").get(token) is None  # a /review login does not open /dashboard
    assert second.get("rita-token-Zq3xY9") is None and second.get(None) is None
    rows = stored_rows(bot)
    assert len(rows) == 1
    assert rows[0]["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert rows[0]["username"] == "rita" and rows[0]["page"] == "/review"
    assert not any(token in str(value) for value in rows[0].values())
    # The listed handles are hashes: sent back as a cookie value, a hash opens nothing.
    assert list(second) == [StoredSession(rows[0]["token_hash"])] and len(second) == 1
    assert second.get(rows[0]["token_hash"]) is None


def test_sessions_end_when_idle_or_too_old_whichever_replica_was_used(bot: Any, replica: Any) -> None:
    clock = Clock()
    first, second = store(bot, clock), store(replica, clock)
    first["t-rita"] = "rita"
    first["t-eve"] = "eve"
    for minutes, replica_store in [(20, second), (40, first), (60, second), (80, first), (100, second)]:
        clock.now = T0 + timedelta(minutes=minutes)  # rita keeps clicking, on either replica
        assert replica_store.get("t-rita") == "rita"
    assert second.get("t-eve") is None and "t-eve" not in first  # eve went idle
    assert [r["username"] for r in stored_rows(bot)] == ["rita"]  # and her row is gone
    clock.now = T0 + MAX_AGE
    assert first.get("t-rita") is None  # the absolute limit, however busy
    first["t-old"] = "eve"
    clock.advance(hours=3)
    second["t-new"] = "rita"  # a new login sweeps expired sessions out of the table
    assert [r["username"] for r in stored_rows(bot)] == ["rita"]


def test_last_seen_is_written_at_most_once_a_minute(bot: Any) -> None:
    clock = Clock()
    sessions = store(bot, clock)
    sessions["t"] = "rita"
    clock.advance(seconds=30)
    assert sessions.get("t") == "rita"
    assert last_seen(bot) == T0  # not written: under a minute since
    clock.advance(seconds=31)
    assert sessions.get("t") == "rita"
    assert last_seen(bot) == T0 + timedelta(seconds=61)


def last_seen(app: Any) -> Any:
    with app.session() as session:
        return as_utc(session.exec(select(StaffSession)).one().last_seen_at)


# --- revocation and logout -------------------------------------------------------------------------------------
def test_disabling_or_resetting_an_account_ends_its_sessions_on_every_replica(bot: Any, replica: Any) -> None:
    clock = Clock()
    first, second = store(bot, clock), store(replica, clock)
    first["t-rita"], first["t-eve"] = "rita", "eve"
    second["t-eve-2"] = "eve"
    with bot.session() as session:
        crud.set_user_disabled(session=session, username="rita", disabled=True)
        crud.reset_password(session=session, username="eve", password="eve-new-pass", now=clock.now)
    assert stored_rows(bot) == []  # the rows went in the same transaction
    assert first.get("t-rita") is None and second.get("t-rita") is None
    assert second.get("t-eve") is None and first.get("t-eve-2") is None
    with bot.session() as session:
        crud.set_user_disabled(session=session, username="rita", disabled=False)
    first["t-rita-again"] = "rita"
    assert second.get("t-rita-again") == "rita"  # a new login after re-enabling works


def test_a_password_changed_after_login_ends_the_session_even_if_its_row_remains(bot: Any) -> None:
    clock = Clock()
    sessions = store(bot, clock)
    sessions["t"] = "rita"
    with bot.session() as session:  # another code path changing the password, without deleting sessions
        rita = crud.get_user_by_username(session=session, username="rita")
        assert rita is not None
        rita.password_changed_at = T0 + timedelta(seconds=1)
        session.add(rita)
        session.commit()
    clock.advance(seconds=2)
    assert sessions.get("t") is None and stored_rows(bot) == []


def test_a_revocation_reaches_a_caching_replica_within_seconds(bot: Any, replica: Any) -> None:
    from chatbot.db.models import utcnow

    cached = store(replica, utcnow, cache_seconds=1.0)  # the production cache, on the real clock
    store(bot, utcnow)["t"] = "rita"
    assert cached.get("t") == "rita"
    with bot.session() as session:
        crud.set_user_disabled(session=session, username="rita", disabled=True)
    started = time.monotonic()
    wait_for(lambda: cached.get("t") is None, "the disabled account's session to end", deadline_s=5.0)
    assert time.monotonic() - started < 3.0


def test_gradio_logout_deletes_the_users_sessions_on_every_replica(bot: Any, replica: Any) -> None:
    clock = Clock()
    first, second = store(bot, clock), store(replica, clock)
    first["t-rita-1"], second["t-rita-2"], first["t-eve"] = "rita", "rita", "eve"
    # Gradio's /logout (all_session=True), verbatim: walk the keys, delete the ones of the user logging out.
    for token in list(second.keys()):
        if second[token] == "rita":
            del second[token]
    assert first.get("t-rita-1") is None and first.get("t-rita-2") is None
    assert first.get("t-eve") == "eve"
    # all_session=False: only the cookie's own token
    assert "t-eve" in second
    del second["t-eve"]
    assert first.get("t-eve") is None and stored_rows(bot) == []
    first["t-rita-3"] = "rita"
    assert second.pop("t-rita-3", None) == "rita" and first.get("t-rita-3") is None
    assert second.pop("t-rita-3", "gone") == "gone"


# --- a dead database -------------------------------------------------------------------------------------------
def test_a_dead_database_reads_as_logged_out_with_one_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Nothing listens on port 1: every connection is refused at once.
    dead = build_app(make_settings(tmp_path, database_url="postgresql+psycopg://postgres@127.0.0.1:1/bankbot"))
    sessions = store(dead, Clock())
    with caplog.at_level(logging.WARNING, logger="ui.staff_sessions"):
        assert sessions.get("t") is None
    assert [r.getMessage().count("\n") for r in caplog.records if r.name == "ui.staff_sessions"] == [0]  # one line
    with caplog.at_level(logging.WARNING, logger="ui.staff_sessions"):
        sessions["t"] = "rita"  # a login that cannot be stored: no exception into Gradio
        assert "t" not in sessions and list(sessions) == [] and sessions.pop("t", None) is None
    lines = [r.getMessage().count("\n") for r in caplog.records if r.name == "ui.staff_sessions"]
    assert len(lines) >= 5 and set(lines) == {0}
    dead.engine.dispose()


# --- the real server: another replica, and a restart -------------------------------------------------------------
def test_a_login_cookie_works_on_another_server_and_after_a_restart(bot: Any, replica: Any) -> None:
    import httpx

    from tests.test_staff_server import _run_server

    running = contextmanager(_run_server)
    with running(replica) as url_b:
        with running(bot) as url_a, httpx.Client(base_url=url_a, timeout=30) as rita:
            logged = rita.post("/review/login", data={"username": "rita", "password": PASSWORDS["rita"]})
            assert logged.status_code == 200
            cookie = {"Cookie": logged.headers.get_list("set-cookie")[0].split(";")[0]}
            assert rita.get("/review/config", headers=cookie).status_code == 200
        # the first server has stopped; the other replica accepts the cookie, and only for the page it opens
        assert httpx.get(f"{url_b}/review/config", headers=cookie, timeout=30).status_code == 200
        assert httpx.get(f"{url_b}/dashboard/config", headers=cookie, timeout=30).status_code == 401
        with running(bot) as url_c:  # the first server restarted
            assert httpx.get(f"{url_c}/review/config", headers=cookie, timeout=30).status_code == 200
            assert httpx.get(f"{url_b}/review/logout", headers=cookie, timeout=30).status_code == 302
            wait_for(
                lambda: httpx.get(f"{url_c}/review/config", headers=cookie, timeout=30).status_code == 401,
                "the logout on one server to end the session on the other",
            )


# --- migration 0006 ---------------------------------------------------------------------------------------------
def test_migration_0006_adds_and_removes_the_sessions_table(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0006")
    assert "staff_session" in inspect(engine).get_table_names()
    indexes = {i["name"] for i in inspect(engine).get_indexes("staff_session")}
    assert {"ix_staff_session_user_id", "ix_staff_session_last_seen_at"} <= indexes
    downgrade(engine, "0005")
    assert "staff_session" not in inspect(engine).get_table_names()
    assert "user" in inspect(engine).get_table_names()
    engine.dispose()


# --- the bundle watcher -----------------------------------------------------------------------------------------
def _bundle(app: Any, version: str, adapters: Path) -> None:
    """A candidate bundle with an adapter folder (the fake generator only reports the adapter's version)."""
    folder = adapters / version
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text("{}")
    with Session(app.engine) as session:
        session.add(ModelVersion(version=version, base_model="fake", adapter_path=str(folder)))
        session.commit()


def test_the_bundle_watcher_switches_to_a_bundle_promoted_elsewhere_without_loading_early(
    bot: Any, replica: Any, tmp_path: Path
) -> None:
    from finetune import registry
    from ui.server import BundleWatcher

    _bundle(replica, "v1", tmp_path / "adapters")
    _bundle(replica, "v2", tmp_path / "adapters")
    registry.promote_version(replica, "v1", by="test")  # `replica` plays the nightly job's process
    watcher = BundleWatcher(bot, every=0.1)
    watcher.start()
    try:
        time.sleep(0.5)  # several checks with nothing loaded
        assert not bot.pipeline_loaded and not bot.generator_loaded  # nothing loaded by the watcher
        reloads: list[Any] = []
        reload = bot.pipeline.reload  # the pipeline without its model: still nothing to reload

        def counted_reload() -> Any:
            reloads.append(1)
            return reload()

        bot.pipeline.reload = counted_reload
        time.sleep(0.3)
        assert reloads == [] and not bot.generator_loaded
        assert bot.pipeline.generator.adapter_version == "v1"
        wait_for(lambda: reloads, "the first check after loading")  # it learns which bundle serves
        registry.promote_version(replica, "v2", by="test")
        wait_for(lambda: bot.pipeline.generator.adapter_version == "v2", "the watcher to switch to v2")
        assert len(reloads) == 2
        assert watcher.check() is False and len(reloads) == 2  # nothing changed: no reload
        registry.rollback(replica, by="test")
        wait_for(lambda: bot.pipeline.generator.adapter_version == "v1", "the watcher to follow the rollback")
        assert len(reloads) == 3
    finally:
        watcher.stop()
    assert watcher._thread is not None and not watcher._thread.is_alive()


def test_the_bundle_watcher_is_off_at_zero_and_survives_a_dead_database(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from ui.server import BundleWatcher

    off = BundleWatcher(build_app(make_settings(tmp_path)), every=0)
    off.start()
    assert off._thread is None
    dead = build_app(make_settings(tmp_path, database_url="postgresql+psycopg://postgres@127.0.0.1:1/bankbot"))
    with caplog.at_level(logging.WARNING, logger="ui.server"):
        assert BundleWatcher(dead, every=30).check() is False
    assert [(r.levelname, r.getMessage().count("\n")) for r in caplog.records if r.name == "ui.server"] == [
        ("WARNING", 0)
    ]
    dead.engine.dispose()
