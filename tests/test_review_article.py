"""A correction can name the right article: consensus keeps it, the dataset trains on its passage, and the
nightly job teaches retrieval the question (approved answers and reviewer-chosen articles only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chatbot.app import build_app
from chatbot.db.models import ReviewStatus
from chatbot.review import ReviewVote, consensus
from finetune.bundle import write_index_snapshot
from finetune.dataset import ReviewedTurn, article_of, build_dataset, load_reviewed_turns, with_article_first
from tests.conftest import make_settings
from tests.nightly_support import SOURCES, reviewed_turn, reviewers

PASSAGE = {"id": "lost_or_stolen_card", "title": "Lost or stolen card", "chunk": 0, "text": "Freeze the card."}


def test_consensus_keeps_the_chosen_article_of_an_agreed_correction() -> None:
    fix = [ReviewVote("correct", "A [1].", "card_arrival"), ReviewVote("correct", "B [1].", "card_arrival")]
    agreed = consensus(fix, required=2, original_answer="x")
    assert (agreed.status, agreed.answer, agreed.article_id) == (ReviewStatus.agreed, "B [1].", "card_arrival")
    unnamed = consensus([ReviewVote("correct", "A."), ReviewVote("correct", "B.")], required=2, original_answer="x")
    assert (unnamed.answer, unnamed.article_id) == ("B.", None)
    assert consensus([*fix[:1], ReviewVote("approve")], required=2, original_answer="x").article_id is None
    settled = consensus(
        [*fix[:1], ReviewVote("approve"), ReviewVote("correct", "C.", "top_up")], required=2, original_answer="x"
    )
    assert (settled.answer, settled.article_id) == ("C.", "top_up")
    approved = consensus([ReviewVote("approve", None, "top_up")] * 2, required=2, original_answer="x")
    assert approved.article_id is None  # only a correction moves the answer to another article


def test_with_article_first_moves_or_attaches_the_article() -> None:
    logged = [{"id": "x", "score": 0.8, "text": "x text"}, {"id": "top_up", "score": 0.6, "text": "chunk"}]
    moved = with_article_first(logged, "top_up", None)
    assert [(s["id"], s["score"], s["text"], s["attached_by_reviewer"]) for s in moved[:1]] == [
        ("top_up", 1.0, "chunk", False)
    ]
    assert [s["id"] for s in moved] == ["top_up", "x"]
    added = with_article_first(logged[:1], "top_up", {"title": "Top up", "text": "body", "chunk": 0})
    assert [(s["id"], s["score"]) for s in added] == [("top_up", 1.0), ("x", 0.8)]
    assert added[0]["text"] == "body" and added[0]["attached_by_reviewer"] is True
    assert with_article_first(logged[:1], "top_up", None) == (logged[0],)  # unknown article: nothing to attach


def test_reviewer_article_wins_and_is_confirmed_in_the_dataset() -> None:
    chosen = ReviewedTurn("t1", "I lost my card", "Freeze it [1].", "correct", tuple(SOURCES), reviewer_article="lost")
    plain = ReviewedTurn("t2", "where is my card", "In 3 days [1].", "correct", tuple(SOURCES))
    approved = ReviewedTurn("t3", "activate?", "Cards > Activate [1].", "approve", tuple(SOURCES))
    assert article_of(chosen) == "lost" and article_of(plain) == "activate_my_card"
    data = build_dataset(
        [chosen, plain, approved], frozen_questions=(), count_tokens=lambda t: len(t.split()), prompt_budget=400
    )
    confirmed = {e.turn_id: (e.article_id, e.article_confirmed) for e in data.examples}
    assert confirmed == {"t1": ("lost", True), "t2": ("activate_my_card", False), "t3": ("activate_my_card", True)}


def test_a_correction_pointed_at_a_missed_article_trains_on_its_passage(tmp_path: Path, database_url: str) -> None:
    app = build_app(make_settings(tmp_path, database_url=database_url))
    app.upgrade_database()
    ids = reviewers(app, 2)
    turn_id = reviewed_turn(
        app,
        "someone took my card",
        "Activate it [1].",
        "correct",
        correction="Freeze the card now [1].",
        article_id="lost_or_stolen_card",
        reviewer_ids=ids,
    )
    asked: list[list[str]] = []

    def passages(article_ids: Any) -> dict[str, dict[str, Any]]:
        asked.append(list(article_ids))
        return {"lost_or_stolen_card": PASSAGE}

    (row,) = load_reviewed_turns(app, passages=passages)
    assert asked == [["lost_or_stolen_card"]]
    assert row.turn_id == str(turn_id) and row.reviewer_article == "lost_or_stolen_card"
    assert [s["id"] for s in row.sources] == ["lost_or_stolen_card", "activate_my_card", "card_arrival"]
    assert row.sources[0]["text"] == "Freeze the card." and row.sources[0]["attached_by_reviewer"] is True
    with app.session() as session:
        from chatbot.db.crud import get_turn

        assert get_turn(session=session, turn_id=turn_id).consensus_article_id == "lost_or_stolen_card"


def test_article_passages_come_from_the_knowledge_base(tmp_path: Path, embedder: Any) -> None:
    from langchain_core.documents import Document

    from retrieval.vector_store import article_passages, article_titles

    app = build_app(make_settings(tmp_path), embedder=embedder)
    docs = [
        Document("Freeze the card.", metadata={"article_id": "lost", "title": "Lost card", "chunk": 0, "intent": ""}),
        Document("Then order one.", metadata={"article_id": "lost", "title": "Lost card", "chunk": 1, "intent": ""}),
        Document("Top up in app.", metadata={"article_id": "top_up", "title": "Top up", "chunk": 0, "intent": "t"}),
    ]
    app.vector_store.add_documents(docs, ids=["lost-0", "lost-1", "top-0"])
    found = article_passages(app.vector_store, ["lost", "nowhere"])
    assert found == {
        "lost": {"id": "lost", "title": "Lost card", "chunk": 0, "intent": None, "text": "Freeze the card."}
    }
    assert article_titles(app.vector_store) == {"lost": "Lost card", "top_up": "Top up"}


def test_nightly_indexes_approved_and_reviewer_pointed_questions_only(tmp_path: Path, embedder: Any) -> None:
    app = build_app(make_settings(tmp_path), embedder=embedder)
    chosen = ReviewedTurn(
        "t1", "someone took my card", "Freeze [1].", "correct", tuple(SOURCES), reviewer_article="lost"
    )
    plain = ReviewedTurn("t2", "where is my parcel card", "In 3 days [1].", "correct", tuple(SOURCES))
    approved = ReviewedTurn("t3", "how to activate", "Cards > Activate [1].", "approve", tuple(SOURCES))
    data = build_dataset(
        [chosen, plain, approved], frozen_questions=(), count_tokens=lambda t: len(t.split()), prompt_budget=400
    )
    counts = write_index_snapshot(app, 1, data.examples)
    assert counts["example_index_added"] == 2 and counts["fewshot_added"] == 3
    hits = {(h.question, h.article_id) for h in app.example_index.at(1).search("someone took my card", 5)}
    assert hits == {("someone took my card", "lost"), ("how to activate", "activate_my_card")}
