"""The retriever on the real embedder and a real Chroma folder, over a slice of the demo knowledge base."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import pytest

from retrieval.example_index import ExampleIndex, normalise_question
from retrieval.ingest import ingest
from retrieval.kb import demo_kb_dir
from retrieval.retriever import build_retriever, evidence_scores, example_votes, fuse_scores
from retrieval.vector_store import open_vector_store
from tests.conftest import make_settings

# A dozen demo articles keep the fixture cheap while leaving look-alike neighbours (card topics) in play.
ARTICLES = [
    "activate_my_card",
    "card_arrival",
    "lost_or_stolen_card",
    "card_payment_fee_charged",
    "exchange_rate",
    "top_up_failed",
    "change_pin",
    "terminate_account",
    "cash_withdrawal_charge",
    "declined_card_payment",
    "apple_pay_or_google_pay",
    "contact_and_hours",
]


@pytest.fixture(scope="module")
def kb_setup(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> tuple[Any, Any, Any]:
    root = tmp_path_factory.mktemp("retriever")
    kb = root / "kb"
    kb.mkdir()
    for article_id in ARTICLES:
        shutil.copy(demo_kb_dir() / f"{article_id}.md", kb)
    settings = make_settings(root)
    store = open_vector_store(settings, embedder)
    report = ingest(settings, store, [kb], progress=False)
    assert report.ok and report.added == len(ARTICLES)
    return settings, store, ExampleIndex.open(settings, embedder)


def test_demo_slice_exists() -> None:
    assert all((demo_kb_dir() / f"{a}.md").is_file() for a in ARTICLES)


@pytest.mark.parametrize(
    ("question", "article_id"),
    [
        ("How do I activate my new card?", "activate_my_card"),
        ("My card still hasn't come in the post", "card_arrival"),
        ("Someone stole my wallet with my card in it", "lost_or_stolen_card"),
        ("I want to close my account", "terminate_account"),
    ],
)
def test_top_article_for_plain_questions(kb_setup: tuple[Any, Any, Any], question: str, article_id: str) -> None:
    settings, store, _ = kb_setup
    docs = build_retriever(settings, store).invoke(question)
    assert docs[0].metadata["article_id"] == article_id


def test_documents_have_the_agreed_shape(kb_setup: tuple[Any, Any, Any]) -> None:
    settings, store, _ = kb_setup
    docs = build_retriever(settings, store).invoke("What fee do you charge for card payments abroad?")
    assert 1 <= len(docs) <= settings.retrieval_k
    ids = [d.metadata["article_id"] for d in docs]
    assert len(ids) == len(set(ids))  # one document per article
    scores = [d.metadata["score"] for d in docs]
    assert scores == sorted(scores, reverse=True)
    for doc in docs:
        assert {"article_id", "title", "intent", "chunk", "score"} <= set(doc.metadata)
        assert isinstance(doc.metadata["chunk"], int)
        assert 0.0 <= doc.metadata["score"] <= 1.0
        assert doc.page_content.startswith((f"# {doc.metadata['title']}", doc.metadata["title"]))


def test_out_of_scope_scores_below_the_threshold_and_in_scope_above(kb_setup: tuple[Any, Any, Any]) -> None:
    settings, store, _ = kb_setup
    retriever = build_retriever(settings, store)
    in_scope = retriever.invoke("How do I activate my new card?")[0].metadata["score"]
    poem = retriever.invoke("write me a poem about the sea")[0].metadata["score"]
    assert poem < settings.min_retrieval_score < in_scope


def test_example_index_adds_dedups_and_searches(tmp_path: Path, embedder: Any) -> None:
    index = ExampleIndex.open(make_settings(tmp_path), embedder)
    added = index.add(["Where is my card?", "where is my card", "Can I use Apple Pay?"], ["a", "a", "b"], source="t")
    assert added == 2
    assert index.add(["WHERE is my card?!"], ["a"], source="t") == 0
    assert index.count() == 2
    hits = index.search("Is Apple Pay supported?", 2)
    assert hits[0].article_id == "b" and hits[0].score > hits[1].score
    assert normalise_question("  Where's   my CARD?! ") == "where s my card"


def test_example_questions_steer_retrieval(kb_setup: tuple[Any, Any, Any], tmp_path: Path, embedder: Any) -> None:
    settings, store, _ = kb_setup
    question = "the thingy still hasn't turned up"
    plain = build_retriever(settings, store).invoke(question)
    assert plain[0].metadata["article_id"] != "card_arrival"  # too vague for article text alone
    index = ExampleIndex.open(make_settings(tmp_path), embedder)
    index.add(["my thingy hasn't turned up yet", "the thingy still has not arrived"], ["card_arrival"] * 2, source="t")
    steered = build_retriever(settings, store, index).invoke(question)
    assert steered[0].metadata["article_id"] == "card_arrival"
    assert steered[0].page_content  # the article's best chunk is fetched even if it was not among the nearest


def test_example_votes_are_softmax_weights_per_article() -> None:
    votes = example_votes([("a", 0.9), ("b", 0.8), ("a", 0.8)], temperature=0.1)
    e = math.exp(-1.0)
    assert votes["a"] == pytest.approx((1 + e) / (1 + 2 * e))
    assert votes["b"] == pytest.approx(e / (1 + 2 * e))
    assert example_votes([]) == {}


def test_fuse_scores_mixes_votes_and_article_scores() -> None:
    fused = fuse_scores(
        {"a": 0.5, "c": 0.4}, [("a", 0.9), ("b", 0.9)], temperature=0.1, article_weight=0.2, article_offset=0.0
    )
    # Neighbours: examples a 0.9, b 0.9 and the articles' own scores a 0.5, c 0.4; best 0.9, weights exp((s-0.9)/0.1).
    total = 2 + math.exp(-4) + math.exp(-5)
    assert fused["a"] == pytest.approx(0.8 * (1 + math.exp(-4)) / total * 0.9 + 0.2 * 0.5)
    assert fused["b"] == pytest.approx(0.8 * 1 / total * 0.9)
    assert fused["c"] == pytest.approx(0.8 * math.exp(-5) / total * 0.9 + 0.2 * 0.4)
    assert fuse_scores({"a": 0.5}, []) == {"a": 0.5}


def test_a_few_examples_cannot_crowd_out_a_closer_article() -> None:
    # One indexed example of article "b" at similarity 0.5; the question's own article "a" matches at 0.6.
    fused = fuse_scores({"a": 0.6, "b": 0.3}, [("b", 0.5)], article_offset=0.0)
    total = 1 + math.exp(-2) + math.exp(-6)  # temperature 0.05: a 0.6 -> 1, b 0.5 -> e^-2, b 0.3 -> e^-6
    assert fused["a"] == pytest.approx(0.8 * 1 / total * 0.6 + 0.2 * 0.6)
    assert fused["b"] == pytest.approx(0.8 * (math.exp(-2) + math.exp(-6)) / total * 0.6 + 0.2 * 0.3)
    assert max(fused, key=lambda k: fused[k]) == "a"


def test_articles_vote_with_the_offset_that_puts_them_on_the_questions_scale() -> None:
    # An example at 0.65 beats an article at 0.6 without the offset; with 0.1 added the article's vote wins.
    article, example = {"a": 0.6, "b": 0.3}, [("b", 0.65)]
    assert max((f := fuse_scores(article, example, article_offset=0.0)), key=lambda k: f[k]) == "b"
    fused = fuse_scores(article, example, article_offset=0.1)
    total = 1 + math.exp(-1) + math.exp(-6)  # neighbours a 0.7 (best), b 0.65 -> e^-1, b 0.4 -> e^-6
    assert fused["a"] == pytest.approx(0.8 * 1 / total * 0.7 + 0.2 * 0.6)
    assert max(fused, key=lambda k: fused[k]) == "a"


def test_evidence_is_the_best_of_article_and_example_similarity() -> None:
    assert evidence_scores({"a": 0.6, "b": 0.3}, [("b", 0.5), ("c", 0.7), ("b", 0.4)]) == {"a": 0.6, "b": 0.5, "c": 0.7}
    assert evidence_scores({"a": 0.6}, []) == {"a": 0.6}


def test_a_few_examples_do_not_lower_the_score_confidence_reads(tmp_path: Path, embedder: Any) -> None:
    """Documents are ranked by the fused score but carry the evidence score, so indexing the first reviewed
    questions does not shrink every score (and push the bot into handing off)."""
    settings = make_settings(tmp_path)
    store = open_vector_store(settings, embedder)
    ingest(settings, store, [demo_kb_dir() / f"{a}.md" for a in ("activate_my_card", "card_arrival")], progress=False)
    question = "How do I activate my card?"
    alone = build_retriever(settings, store, None).invoke(question)
    index = ExampleIndex.open(settings, embedder)
    index.add(["when does the parcel with my card come", "is my card in the post"], ["card_arrival"] * 2, source="t")
    docs = build_retriever(settings, store, index).invoke(question)
    assert [d.metadata["article_id"] for d in docs] == [d.metadata["article_id"] for d in alone]
    assert docs[0].metadata["score"] == pytest.approx(alone[0].metadata["score"], abs=1e-6)
    assert docs[0].metadata["rank_score"] != docs[0].metadata["score"]  # the fused number is kept apart


def test_promoted_embedder_gets_its_own_reembedded_collections(tmp_path: Path, embedder: Any) -> None:
    from chatbot.app import build_app
    from retrieval.embedder_registry import active_embedder
    from retrieval.vector_store import kb_collection_name
    from tests.embedder_support import serve_fine_tuned_embedder

    settings = make_settings(tmp_path)
    nightly = build_app(settings, embedder=embedder)  # the nightly job, whose bundle names the embedder
    nightly.upgrade_database()  # the active embedder is a row of the embedder_version table
    kb = tmp_path / "kb"
    kb.mkdir()
    shutil.copy(demo_kb_dir() / "activate_my_card.md", kb)
    store = open_vector_store(settings, embedder)
    ingest(settings, store, [kb], progress=False)
    ExampleIndex.open(settings, embedder).add(["how to switch on my card"], ["activate_my_card"], source="t")

    model_dir = serve_fine_tuned_embedder(nightly, "emb-test")
    nightly.engine.dispose()
    assert active_embedder(settings) == str(model_dir)
    assert kb_collection_name(settings) == "bankbot_kb-emb-test"
    app = build_app(settings, embedder=embedder)
    assert app.vector_store._collection.name == "bankbot_kb-emb-test"
    assert app.vector_store._collection.count() == store._collection.count()
    assert app.example_index.count() == 1 + 4  # the one added and the article's own four example questions
    assert app.retriever.invoke("How do I activate my card?")[0].metadata["article_id"] == "activate_my_card"
