"""The knowledge base, the example index and the few-shot store on a real Chroma server (``chroma run``).

Two app instances with the same settings stand for two replicas: what one writes, the other reads. A dead server
is one clear line at start and a logged hand-off in the chat; a token server refuses a wrong token.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from chatbot.app import BankBot, build_app
from chatbot.db.models import Turn
from chatbot.errors import BankbotError
from chatbot.fewshot import FewShotExample
from chatbot.handoff import LOW_CONFIDENCE_ANSWER
from retrieval.chroma_server import ChromaServer, free_port, start_chroma_server, token_server_available
from retrieval.ingest import ingest
from retrieval.kb import demo_kb_dir
from retrieval.vector_store import chroma_client
from tests.conftest import make_settings

pytestmark = pytest.mark.cluster

# A phrasing no article is about, taught to point at one article: only the example index can rank it first.
ODD_QUESTION = "zebra protocol seven please"
ODD_ARTICLE = "cancel_transfer"
APPROVED = "You can cancel a transfer while it is still pending: open it in the app and tap Cancel."


@pytest.fixture(scope="module")
def chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    with start_chroma_server(tmp_path_factory.mktemp("chroma") / "db", deadline_s=60) as server:
        yield server


def server_app(tmp_path: Path, server: ChromaServer, collection: str, embedder: Any, **settings: Any) -> BankBot:
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'bankbot.db'}",
        "chroma_host": server.host,
        "chroma_port": server.port,
        "chroma_collection": collection,
    }
    values.update(settings)
    app = build_app(make_settings(tmp_path, **values), embedder=embedder)
    app.upgrade_database()
    return app


def small_kb(tmp_path: Path, *article_ids: str) -> Path:
    kb = tmp_path / "kb"
    kb.mkdir(exist_ok=True)
    for article_id in article_ids:
        shutil.copy(demo_kb_dir() / f"{article_id}.md", kb)
    return kb


def turns(app: BankBot) -> list[Turn]:
    with app.session() as session:
        return list(session.exec(select(Turn)).all())


def test_a_second_replica_reads_what_the_first_wrote(tmp_path: Path, chroma: ChromaServer, embedder: Any) -> None:
    collection = f"kb_{uuid.uuid4().hex[:8]}"
    first = server_app(tmp_path, chroma, collection, embedder)
    report = ingest(first.settings, first.vector_store, None, progress=False)
    assert not report.skipped
    chunks = int(first.vector_store._collection.count())
    assert chunks >= 80  # every demo article, at least one chunk each
    assert not first.settings.effective_chroma_path.exists()  # nothing went to an embedded folder
    assert first.retriever.invoke("my new card still hasn't arrived")[0].metadata["article_id"] == "card_arrival"
    assert first.retriever.invoke(ODD_QUESTION)[0].metadata["article_id"] != ODD_ARTICLE

    kb_examples = first.example_index.count()  # the articles' own example questions, written by ingest
    assert kb_examples >= 4 * 80
    assert first.example_index.add([ODD_QUESTION], [ODD_ARTICLE], source="test") == 1
    assert first.fewshot.add_examples([FewShotExample(ODD_QUESTION, APPROVED, ODD_ARTICLE, "t-1")]) == 1

    second = server_app(tmp_path, chroma, collection, embedder)
    assert int(second.vector_store._collection.count()) == chunks
    assert (second.example_index.count(), second.fewshot.count()) == (kb_examples + 1, 1)
    assert second.retriever.invoke(ODD_QUESTION)[0].metadata["article_id"] == ODD_ARTICLE
    assert second.fewshot.select(ODD_QUESTION, 1, article_id=ODD_ARTICLE) == [
        {"question": ODD_QUESTION, "answer": APPROVED, "article_id": ODD_ARTICLE}
    ]
    answer = second.pipeline.answer(ODD_QUESTION)  # the whole chat path reads the server
    assert answer.sources[0].article_id == ODD_ARTICLE
    assert answer.meta["few_shot"] == [ODD_ARTICLE]
    assert answer.meta["approved_answer"] == APPROVED


def test_an_unreachable_server_is_one_clear_line(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, chroma_host="127.0.0.1", chroma_port=free_port())
    with pytest.raises(BankbotError) as caught:
        chroma_client(settings)
    message = str(caught.value)
    assert message.startswith(f"cannot reach the Chroma server at http://127.0.0.1:{settings.chroma_port}")
    assert "BANKBOT_CHROMA_HOST/PORT" in message
    assert "\n" not in message


def test_chat_hands_off_and_logs_when_the_server_was_never_up(tmp_path: Path, embedder: Any) -> None:
    dead = ChromaServer("127.0.0.1", free_port(), None, tmp_path / "none.log")  # type: ignore[arg-type]
    app = server_app(tmp_path, dead, "kb_dead", embedder)
    answer = app.pipeline.answer("my new card still hasn't arrived")
    streamed = list(app.pipeline.stream("how do I cancel a transfer?"))[-1]
    for result in (answer, streamed):
        assert (result.answer_kind, result.answer, result.abstained) == ("handoff", LOW_CONFIDENCE_ANSWER, True)
        assert result.meta["reason"] == "retrieval_unavailable"
    logged = turns(app)
    assert {row.id for row in logged} == {answer.turn_id, streamed.turn_id}
    assert all(row.abstained for row in logged)
    with start_chroma_server(tmp_path / "chroma", port=dead.port, deadline_s=60):  # the server comes up late
        assert app.pipeline.answer("my new card still hasn't arrived").meta.get("reason") != "retrieval_unavailable"


def test_chat_hands_off_and_logs_when_the_server_dies(tmp_path: Path, embedder: Any) -> None:
    with start_chroma_server(tmp_path / "chroma", deadline_s=60) as server:
        app = server_app(tmp_path, server, "kb_dies", embedder)
        ingest(app.settings, app.vector_store, [small_kb(tmp_path, "card_arrival", "cancel_transfer")], progress=False)
        before = app.pipeline.answer("my new card still hasn't arrived")
        assert before.sources[0].article_id == "card_arrival"
        assert before.meta.get("reason") != "retrieval_unavailable"
        server.stop()
        after = app.pipeline.answer("my new card still hasn't arrived")
    assert (after.answer_kind, after.meta["reason"]) == ("handoff", "retrieval_unavailable")
    assert {row.id for row in turns(app)} == {before.turn_id, after.turn_id}
    with start_chroma_server(tmp_path / "chroma", port=server.port, deadline_s=60):  # restarted on its address
        again = app.pipeline.answer("my new card still hasn't arrived")
    assert again.sources[0].article_id == "card_arrival"


def test_token_server_refuses_a_wrong_or_missing_token(tmp_path: Path) -> None:
    if (missing := token_server_available()) is not None:
        pytest.skip(missing)
    with start_chroma_server(tmp_path / "chroma", token="s3cret-token", deadline_s=90) as server:
        base = {"chroma_host": server.host, "chroma_port": server.port}
        client = chroma_client(make_settings(tmp_path, chroma_auth_token="s3cret-token", **base))
        client.get_or_create_collection("kb_auth", embedding_function=None).add(ids=["a"], embeddings=[[0.1, 0.2]])
        assert client.get_collection("kb_auth", embedding_function=None).count() == 1
        with pytest.raises(BankbotError, match="BANKBOT_CHROMA_AUTH_TOKEN was refused") as wrong:
            chroma_client(make_settings(tmp_path, chroma_auth_token="guess", **base))
        with pytest.raises(BankbotError, match="it needs BANKBOT_CHROMA_AUTH_TOKEN"):
            chroma_client(make_settings(tmp_path, **base))
    assert "guess" not in str(wrong.value) and "s3cret" not in str(wrong.value)


def test_chroma_run_itself_checks_no_token(chroma: ChromaServer, tmp_path: Path) -> None:
    """Why the token test needs Chroma's Python server: if this fails, ``chroma run`` learnt auth; use it there."""
    client = chroma_client(
        make_settings(tmp_path, chroma_host=chroma.host, chroma_port=chroma.port, chroma_auth_token="x")
    )
    assert isinstance(client.list_collections(), list)
