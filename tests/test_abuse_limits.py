"""Abuse limits on the real web server: per-client rates (429 + Retry-After), the body cap (413), the question cap
(422), bounded chat work (503) and the /api/chat deadline (504, the turn still logged).

The server is ``create_server`` under uvicorn in a thread on a free localhost port (a retriever that waits for the
test to open a gate makes answers as slow as a test needs), plus one ``bankbot serve`` subprocess for what only the
command sets up (the X-Forwarded-For rule of the uvicorn it starts). A second client is a second loopback address
(127.0.0.2): a different TCP peer, as another customer would be. The pure rules behind the limits are
tests/test_abuse_rules.py.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chatbot.app import build_app
from tests.conftest import make_settings, serve_env
from ui.limits import BUSY_RETRY_AFTER_S, uvicorn_options

START_TIMEOUT_S = 120
REQUEST_TIMEOUT_S = 30
GATE_TIMEOUT_S = 30
OTHER_CLIENT = "127.0.0.2"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    port: int,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    *,
    source: str = "127.0.0.1",
) -> Reply:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S, source_address=(source, 0))
    try:
        sent_headers = dict(headers or {})
        if isinstance(body, dict):
            body = json.dumps(body).encode()
            sent_headers.setdefault("Content-Type", "application/json")
        chunked = body is not None and not isinstance(body, (bytes, str))
        # The server may answer (413) and close before the whole body is sent: its answer is still there to read.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.request(method, path, body=body, headers=sent_headers, encode_chunked=chunked)
        response = connection.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


def ask(port: int, question: str = "When will my card arrive?", *, source: str = "127.0.0.1") -> Reply:
    return call(port, "POST", "/api/chat", {"question": question}, source=source)


class GatedRetriever:
    """Finds nothing (the bot hands off), but only once the test opens the gate: a chat as slow as the test wants."""

    def __init__(self, open_gate: bool = True) -> None:
        self.gate = threading.Event()
        if open_gate:
            self.gate.set()
        self.entered = threading.Semaphore(0)

    def invoke(self, question: str) -> list[Any]:
        self.entered.release()
        if not self.gate.wait(GATE_TIMEOUT_S):
            raise TimeoutError("the test never opened the gate")
        return []

    def wait_entered(self, count: int) -> None:
        for _ in range(count):
            assert self.entered.acquire(timeout=GATE_TIMEOUT_S), "a chat never reached retrieval"


@dataclass
class Live:
    port: int
    app: Any
    retriever: GatedRetriever

    def turns(self) -> int:
        from sqlmodel import func, select

        from chatbot.db.models import Turn

        with self.app.session() as session:
            return int(session.exec(select(func.count()).select_from(Turn)).one())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Callable[..., Live]]:
    """Start ``create_server`` under uvicorn in a thread with these settings; stopped after the test."""
    import uvicorn

    from ui.server import create_server

    servers: list[tuple[Any, threading.Thread]] = []

    def start(*, open_gate: bool = True, embedder: Any = None, **overrides: Any) -> Live:
        retriever = GatedRetriever(open_gate)
        settings = make_settings(tmp_path / f"s{len(servers)}", **overrides)
        app = build_app(settings, retriever=retriever, embedder=embedder)
        app.upgrade_database()
        port = _free_port()
        options = uvicorn_options(app.settings)  # as `bankbot serve` runs it
        config = uvicorn.Config(create_server(app), host="127.0.0.1", port=port, log_level="warning", **options)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
        thread.start()
        servers.append((server, thread))
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
            time.sleep(0.05)
        return Live(port, app, retriever)

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(REQUEST_TIMEOUT_S)


# --- per-client rates on the running server ------------------------------------------------------------------------
def test_chat_api_rate_is_per_client(live: Callable[..., Live]) -> None:
    server = live(rate_limit_api_chat="3/minute")
    assert [ask(server.port).status for _ in range(3)] == [200, 200, 200]
    refused = ask(server.port)
    assert refused.status == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["error"].startswith("too many requests: at most 3 per 1 minute from one client")
    # a spoofed X-Forwarded-For does not make a new client (no trusted proxy configured)
    spoofed = call(server.port, "POST", "/api/chat", {"question": "hi"}, {"X-Forwarded-For": "198.51.100.23"})
    assert spoofed.status == 429
    # another customer is still answered, and the refused requests never reached the pipeline
    assert ask(server.port, source=OTHER_CLIENT).status == 200
    assert server.turns() == 4


def test_trusted_proxy_names_the_client(live: Callable[..., Live]) -> None:
    server = live(rate_limit_api_chat="1/minute", trusted_proxies=["127.0.0.1"])

    def via_proxy(client: str) -> int:
        return call(server.port, "POST", "/api/chat", {"question": "hi"}, {"X-Forwarded-For": client}).status

    assert [via_proxy("198.51.100.1"), via_proxy("198.51.100.2"), via_proxy("198.51.100.1")] == [200, 200, 429]


def test_web_chat_articles_and_login_rates(live: Callable[..., Live], embedder: Any) -> None:
    rates = {"rate_limit_web_chat": "2/minute", "rate_limit_articles": "2/minute", "rate_limit_login": "2/minute"}
    server = live(embedder=embedder, **rates)  # the article page opens the (empty) knowledge base
    join = {"data": ["hello", None], "fn_index": 0, "session_hash": "abc", "event_data": None, "trigger_id": None}
    joined = [call(server.port, "POST", "/gradio_api/queue/join", join).status for _ in range(3)]
    assert joined == [200, 200, 429]
    assert call(server.port, "POST", "/gradio_api/queue/join", join, source=OTHER_CLIENT).status == 200

    pages = [call(server.port, "GET", "/articles/no_such_article").status for _ in range(3)]
    assert pages == [404, 404, 429]

    login = {"username": "nobody", "password": "not-the-password"}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    body = "&".join(f"{k}={v}" for k, v in login.items())
    tries = [
        call(server.port, "POST", f"{page}/login", body, form).status for page in ("/review", "/dashboard", "/review")
    ]
    assert tries == [400, 400, 429]  # one rate for both staff logins: switching page does not reset it
    # the rest of the site is still served to this client
    assert call(server.port, "GET", "/healthz").status == 200


# --- sizes -------------------------------------------------------------------------------------------------------
def test_body_cap_and_question_cap(live: Callable[..., Live]) -> None:
    server = live(max_body_bytes=2048, max_question_chars=50)
    declared = ask(server.port, "x" * 3000)
    assert declared.status == 413 and "over 2048 bytes" in declared.json()["error"]
    # no Content-Length: the streamed bytes are counted and the request stops at the cap
    streamed = call(server.port, "POST", "/api/chat", iter([b'{"question": "', b"y" * 4000, b'"}']))
    assert streamed.status == 413
    gradio = call(server.port, "POST", "/gradio_api/queue/join", iter([b"z" * 5000]))
    assert gradio.status == 413
    liar = call(server.port, "POST", "/api/chat", b"{}", {"Content-Length": "-1"})
    assert liar.status in (400, 413)  # uvicorn itself may refuse the header first
    too_long = ask(server.port, "q" * 51)
    assert too_long.status == 422 and "at most 50 characters" in too_long.body.decode()
    assert ask(server.port, "q" * 50).status == 200
    assert server.turns() == 1  # nothing refused reached the pipeline


# --- bounded work and the deadline --------------------------------------------------------------------------------
def test_chat_api_in_flight_bound(live: Callable[..., Live]) -> None:
    server = live(open_gate=False, max_concurrent_chats=1, chat_queue_size=1)  # two answers in flight at most
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(ask(server.port).status)) for _ in range(2)]
    for thread in threads:
        thread.start()
    server.retriever.wait_entered(2)
    busy = ask(server.port, source=OTHER_CLIENT)
    assert busy.status == 503 and busy.headers["retry-after"] == str(BUSY_RETRY_AFTER_S)
    server.retriever.gate.set()
    for thread in threads:
        thread.join(REQUEST_TIMEOUT_S)
    assert results == [200, 200]
    assert ask(server.port).status == 200  # the slots are free again


def test_chat_api_deadline_still_logs_the_turn(live: Callable[..., Live]) -> None:
    server = live(open_gate=False, chat_deadline_s=1.0, max_concurrent_chats=1, chat_queue_size=1)
    started = time.monotonic()
    late = ask(server.port)
    assert late.status == 504 and "no answer within 1 s" in late.json()["error"]
    assert time.monotonic() - started < 10
    assert server.turns() == 0
    # the abandoned answer still holds its slot: with the second one also stuck, a third is refused at once
    second: list[int] = []
    thread = threading.Thread(target=lambda: second.append(ask(server.port).status))
    thread.start()
    server.retriever.wait_entered(2)
    assert ask(server.port).status == 503
    server.retriever.gate.set()
    thread.join(REQUEST_TIMEOUT_S)
    deadline = time.monotonic() + REQUEST_TIMEOUT_S
    while server.turns() < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.turns() == 2  # the given-up answer was finished and logged, like the one that was waited for


def test_web_chat_queue_is_bounded(live: Callable[..., Live]) -> None:
    server = live(open_gate=False, max_concurrent_chats=1, chat_queue_size=1)

    def join(n: int) -> Reply:
        body = {"data": [f"question {n}", None], "fn_index": 0, "session_hash": f"s{n}", "trigger_id": None}
        return call(server.port, "POST", "/gradio_api/queue/join", body)

    assert join(0).status == 200
    server.retriever.wait_entered(1)  # running: the one slot of the chat events is taken
    assert join(1).status == 200  # waiting: the queue is full now
    full = join(2)
    assert full.status == 503 and full.headers["retry-after"] == str(BUSY_RETRY_AFTER_S)
    server.retriever.gate.set()


# --- the `bankbot serve` command ----------------------------------------------------------------------------------
def test_serve_ignores_forwarded_for_from_a_local_peer(tmp_path: Path) -> None:
    """uvicorn's own default trusts X-Forwarded-For from 127.0.0.1; `bankbot serve` must not, or one local client
    could pose as many."""
    port = _free_port()
    env = serve_env(tmp_path, BANKBOT_RATE_LIMIT_OTHER="3/minute")
    bankbot = str(Path(sys.executable).with_name("bankbot"))
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [bankbot, "serve", "--no-ingest", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S * 3  # imports Gradio and torch on a busy 2-core machine
        while True:  # uvicorn listens only once the app is built: a connection means it is up
            assert proc.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, "bankbot serve did not start"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        statuses = [
            call(port, "GET", "/healthz", headers={"X-Forwarded-For": f"198.51.100.{n}"}).status for n in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        assert call(port, "GET", "/healthz", source=OTHER_CLIENT).status == 200
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
