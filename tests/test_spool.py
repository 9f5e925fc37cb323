"""The durable spool and TurnStore: database down → answer returned → database back → turn stored, none lost."""

from __future__ import annotations

import json
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from sqlmodel import Session, col, select

from chatbot.app import build_app
from chatbot.db.engine import make_engine
from chatbot.db.migrate import upgrade
from chatbot.db.models import Turn, TurnCreate
from chatbot.spool import Spool
from chatbot.turn_store import TurnStore, is_transient
from tests.conftest import make_settings


class OneArticle(BaseRetriever):
    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        meta = {"article_id": "card_arrival", "title": "Card arrival", "score": 0.9, "chunk": 0}
        return [Document("Cards arrive within 5–7 working days. Track it in the app.", metadata=meta)]


def turn(question: str = "where is my card?") -> TurnCreate:
    return TurnCreate(question=question, answer="soon [1]", confidence=0.5, sources=[{"id": "card_arrival"}])


def stored(engine: Any) -> list[Turn]:
    with Session(engine) as session:
        return list(session.exec(select(Turn).order_by(col(Turn.created_at))).all())


# --- Spool -------------------------------------------------------------------------------------------------
def test_spool_writes_complete_files_and_replays_in_order(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    for i in range(5):
        spool.write({"n": i}, name=f"r{i}")
    assert [json.loads(p.read_text())["n"] for p in spool.pending()] == [0, 1, 2, 3, 4]
    assert not list((tmp_path / "spool").glob(".tmp-*"))  # no temporary file left behind
    seen: list[int] = []
    assert spool.replay(lambda record: seen.append(record["n"])) == 5
    assert seen == [0, 1, 2, 3, 4]
    assert spool.pending() == []


def test_replay_stops_at_a_transient_failure_and_keeps_the_rest(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    for i in range(3):
        spool.write({"n": i})
    seen: list[int] = []

    def handle(record: dict[str, Any]) -> None:
        if record["n"] == 1:
            raise ConnectionError("database down")
        seen.append(record["n"])

    assert spool.replay(handle) == 1
    assert seen == [0]
    assert len(spool) == 2  # 1 and 2 wait, in order
    assert spool.replay(lambda r: seen.append(r["n"])) == 2
    assert seen == [0, 1, 2]


def test_a_bad_record_is_quarantined_not_blocking(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.write({"n": 0})
    (tmp_path / "00000000000000000001-corrupt.json").write_text("{not json")
    spool.write({"n": 2})

    def handle(record: dict[str, Any]) -> None:
        if record["n"] == 0:
            raise ValueError("violates a constraint")

    assert spool.replay(handle, is_transient=lambda exc: isinstance(exc, ConnectionError)) == 1
    assert len(spool) == 0
    assert len(list(spool.failed_dir.glob("*.json"))) == 2


# --- TurnStore ------------------------------------------------------------------------------------------------
def test_turn_store_writes_and_is_idempotent(migrated_engine: Any, tmp_path: Path) -> None:
    store = TurnStore(migrated_engine, tmp_path / "spool")
    record = turn()
    turn_id = store.log_turn(record)
    again = store.log_turn(record.model_copy(update={"id": turn_id}))  # a replay of the same turn
    assert again == turn_id
    rows = stored(migrated_engine)
    assert [r.id for r in rows] == [turn_id]
    assert rows[0].sources == [{"id": "card_arrival"}]
    assert store.pending() == 0


def _down_database(tmp_path: Path) -> tuple[str, Path]:
    """A SQLite URL whose folder is gone: connecting fails with OperationalError, as with a server that is down."""
    folder = tmp_path / "db"
    url = f"sqlite:///{folder / 'bankbot.db'}"
    return url, folder


def test_turns_survive_a_database_outage_in_order(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    url, folder = _down_database(tmp_path)
    engine = make_engine(url)  # creates the folder …
    shutil.rmtree(folder)  # … which then disappears: the database is down
    store = TurnStore(engine, tmp_path / "spool")
    ids = [store.log_turn(turn(f"question {i}")) for i in range(3)]
    assert len(set(ids)) == 3
    assert store.pending() == 3
    assert "could not store turn" in caplog.text

    folder.mkdir()  # the database is back
    upgrade(engine)
    fourth = store.log_turn(turn("question 3"))  # joins the spool; the background replay stores all four
    deadline = time.monotonic() + 20
    while store.pending() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store.pending() == 0
    rows = stored(engine)
    assert [r.id for r in rows] == [*ids, fourth]
    assert [r.question for r in rows] == [f"question {i}" for i in range(4)]
    assert store.flush_spool() == 0


def test_pipeline_answers_while_the_database_is_down(tmp_path: Path) -> None:
    url, folder = _down_database(tmp_path)
    settings = make_settings(tmp_path, database_url=url, few_shot_k=0)
    app = build_app(settings, retriever=OneArticle())
    app.engine  # noqa: B018 - the engine creates the folder; then the database goes down
    shutil.rmtree(folder)

    result = app.pipeline.answer("When will my card arrive?")
    assert result.answer == "Cards arrive within 5–7 working days. [1]"
    assert not result.abstained
    assert app.turn_store.pending() == 1

    folder.mkdir()
    app.upgrade_database()
    app.turn_store.flush_spool()  # or the background replay got there first
    assert app.turn_store.pending() == 0
    rows = stored(app.engine)
    assert [r.id for r in rows] == [result.turn_id]
    assert rows[0].answer == result.answer
    assert rows[0].confidence == pytest.approx(result.confidence)
    assert rows[0].latency_ms == pytest.approx(result.latency_ms)


def test_transient_errors_are_told_apart() -> None:
    from sqlalchemy.exc import IntegrityError, OperationalError

    from chatbot.errors import DatabaseUnavailable

    assert is_transient(OperationalError("SELECT 1", {}, Exception("connection refused")))
    assert is_transient(DatabaseUnavailable("down"))
    assert not is_transient(IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not is_transient(ValueError("bad"))


def test_replayed_turn_keeps_its_time_and_ids(tmp_path: Path, sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    store = TurnStore(engine, tmp_path / "spool")
    conversation = uuid.uuid4()
    record = turn().model_copy(update={"conversation_id": conversation})
    store.engine = make_engine(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    shutil.rmtree(tmp_path / "missing")
    turn_id = store.log_turn(record)
    spooled = json.loads(store.spool.pending()[0].read_text())
    store.engine = engine
    store.flush_spool()  # or the background replay got there first
    assert store.pending() == 0
    (row,) = stored(engine)
    assert row.id == turn_id
    assert row.conversation_id == conversation
    assert row.created_at.isoformat().startswith(spooled["created_at"][:19])
