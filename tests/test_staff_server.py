"""Staff accounts through the real server: lockout, audit and session end over HTTP, session expiry and secure
cookies behind HTTPS, `bankbot users`, and staff actions on the real pages showing in the audit log."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chatbot.app import build_app
from chatbot.db import crud
from chatbot.db.models import UserCreate
from tests.conftest import make_settings
from tests.staff_support import PASSWORDS, staff_app
from tests.staff_support import actions as _actions


@pytest.fixture
def bot(tmp_path: Path, database_url: str) -> Iterator[Any]:
    yield from staff_app(tmp_path, database_url)


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
