"""Durability of customer turns: invalid Unicode refused cleanly, a client leaving mid-answer still logged, spooled
turns replayed in the background (not on a customer's request), and the same on a real server process."""

from __future__ import annotations

import fcntl
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from chatbot.db.engine import make_engine
from chatbot.db.migrate import upgrade
from chatbot.db.models import Turn, TurnCreate, utcnow
from chatbot.errors import InvalidQuestion
from chatbot.protocols import ANSWER_PENDING
from chatbot.spool import Spool
from chatbot.turn_store import TurnStore
from chatbot.turn_text import validate_question
from tests.conftest import _postgres_database
from tests.pipeline_support import make_app
from tests.test_concurrency import wait_for


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from _postgres_database()


# --- invalid Unicode ------------------------------------------------------------------------------------------
def test_a_lone_surrogate_is_refused_with_one_line() -> None:
    with pytest.raises(InvalidQuestion) as refused:
        validate_question("where is my card \ud800?", 1000)
    assert "\n" not in str(refused.value) and "invalid characters" in str(refused.value)
    assert validate_question("where is my card 💳?", 1000) == "where is my card 💳?"  # a real astral character


def test_the_api_answers_422_to_a_lone_surrogate_and_keeps_answering(tmp_path: Path, sqlite_url: str) -> None:
    from fastapi.testclient import TestClient

    from tests.pipeline_support import rows
    from ui.server import create_server

    app = make_app(tmp_path, sqlite_url)
    with TestClient(create_server(app)) as client:
        body = '{"question": "When will my card arrive? \\ud800"}'  # JSON escapes: what a broken client sends
        refused = client.post("/api/chat", content=body, headers={"content-type": "application/json"})
        assert refused.status_code == 422
        assert "invalid characters" in refused.text and "\n" not in refused.text
        answered = client.post("/api/chat", json={"question": "When will my card arrive?"})
        assert answered.status_code == 200
    assert [r.question for r in rows(app)] == ["When will my card arrive?"]
    assert app.turn_store.pending() == 0


def test_the_web_chat_shows_a_clear_message_for_a_lone_surrogate(tmp_path: Path, sqlite_url: str) -> None:
    import json

    from ui.chat import new_state, stream_reply

    app = make_app(tmp_path, sqlite_url)
    last = list(stream_reply(app, "my card \ud800", new_state()))[-1]
    assert last["messages"][-1]["content"].startswith("Sorry — the question contains invalid characters")
    json.dumps(last["messages"], ensure_ascii=False).encode("utf-8")  # what goes to the browser is valid UTF-8


# --- a client that leaves mid-answer ------------------------------------------------------------------------------
def _logged(app: Any) -> list[Turn]:
    with app.session() as session:
        return list(session.exec(select(Turn).order_by(col(Turn.created_at))).all())


def test_a_stream_closed_after_the_first_yield_still_logs_its_turn(tmp_path: Path, database_url: str) -> None:
    app = make_app(tmp_path, database_url)
    stream = app.pipeline.stream("When will my card arrive?")
    assert next(stream) is ANSWER_PENDING
    stream.close()  # what Gradio does when the browser goes away
    (turn,) = wait_for(lambda: _logged(app), "the departed client's turn")
    assert turn.question == "When will my card arrive?"
    assert turn.meta["client_disconnected"] is True
    assert turn.answer == "Cards arrive within 5–7 working days. [1]"  # the answer the customer would have got
    app.engine.dispose()


def test_the_web_chat_closed_by_a_leaving_browser_still_logs_the_turn(tmp_path: Path, sqlite_url: str) -> None:
    from ui.chat import TYPING_INDICATOR, new_state, stream_reply

    app = make_app(tmp_path, sqlite_url)
    reply = stream_reply(app, "When will my card arrive?", new_state())
    assert next(reply)["messages"][-1]["content"] == TYPING_INDICATOR
    assert next(reply)["messages"][-1]["content"] == TYPING_INDICATOR  # accepted; the model has not answered
    reply.close()
    (turn,) = wait_for(lambda: _logged(app), "the turn of the closed chat")
    assert turn.meta["client_disconnected"] is True


# --- spool replay in the background -----------------------------------------------------------------------------
def test_spool_replay_runs_in_the_background_not_on_the_request_path(tmp_path: Path, sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    store = TurnStore(engine, tmp_path / "spool")
    older = TurnCreate(id=uuid.uuid4(), question="older", answer="a", created_at=utcnow())
    store.spool.write(older.model_dump(mode="json"), name=str(older.id))  # left by a database outage
    # Holding the spool's lock makes the replay wait, as a slow database would.
    with open(store.spool.directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        store.replayer.wake()
        # The replay cannot finish while the lock is held, so a request that waited for it would never return:
        # answered at all (within a deadline generous enough for a loaded machine) means it did not wait.
        logged: list[uuid.UUID] = []
        request = threading.Thread(
            target=lambda: logged.append(store.log_turn(TurnCreate(question="newer", answer="b")))
        )
        request.start()
        request.join(timeout=60)
        assert not request.is_alive() and len(logged) == 1  # the customer's request did not wait for the replay
        newer = logged[0]
        assert store.pending() == 2  # queued behind the older turn, not written ahead of it
        assert store.replayer.running
    # closing the file released the lock
    wait_for(lambda: store.pending() == 0, "the background replay")
    with Session(engine) as session:
        stored = session.exec(select(Turn).order_by(col(Turn.created_at))).all()
    assert [t.id for t in stored] == [older.id, newer]
    wait_for(lambda: not store.replayer.running, "the idle replay thread to end")
    store.close()
    engine.dispose()


def test_turns_spooled_by_an_earlier_process_are_replayed_at_start(tmp_path: Path, sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    ids = [uuid.uuid4() for _ in range(3)]
    for i, turn_id in enumerate(ids):  # spooled by a process that then died
        Spool(tmp_path / "spool").write(TurnCreate(id=turn_id, question=f"q{i}", answer="a").model_dump(mode="json"))
    store = TurnStore(engine, tmp_path / "spool")  # the next process
    wait_for(lambda: store.pending() == 0, "the start-up replay")
    with Session(engine) as session:
        assert {t.id for t in session.exec(select(Turn)).all()} == set(ids)
    store.close()
    engine.dispose()


# --- the real server process on the real PostgreSQL ---------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.postgres
def test_the_real_server_refuses_invalid_unicode_and_logs_the_turn_of_a_client_that_hung_up(
    tmp_path: Path, postgres_url: str
) -> None:
    """`bankbot serve` (fake LLM) on PostgreSQL: a lone surrogate gets a one-line 422, and a client that hangs up
    before reading its answer still has its turn stored."""
    import urllib.error
    import urllib.request

    from tests.browser.conftest import _serve

    with contextmanager(_serve)(tmp_path, {"BANKBOT_DATABASE_URL": postgres_url}, accounts=False) as server:
        bad = urllib.request.Request(
            server.url + "/api/chat",
            data=b'{"question": "When will my card arrive? \\ud800"}',
            headers={"content-type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(bad, timeout=60)
        body = refused.value.read().decode()
        assert refused.value.code == 422 and "invalid characters" in json.loads(body)["error"]
        assert "\n" not in body

        question = json.dumps({"question": "When will my card arrive?"}).encode()
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as client:
            client.sendall(
                b"POST /api/chat HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(question)}\r\nConnection: close\r\n\r\n".encode()
                + question
            )
            # Hangs up without reading the answer. (A client gone before the server read its request body was
            # never received: uvicorn hands the app a disconnect instead of the body.)
            time.sleep(0.5)
        engine = make_engine(postgres_url)

        def logged() -> list[Turn]:
            with Session(engine) as session:
                return list(session.exec(select(Turn)).all())

        (turn,) = wait_for(logged, "the departed client's turn", deadline_s=120)
        assert turn.question == "When will my card arrive?" and turn.answer
        engine.dispose()
