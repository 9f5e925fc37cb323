"""Articles' ``examples:`` front matter: parsed with the article, put into the example index by ingest (source
``kb``, in every snapshot), replaced with their file, pruned with it, and steering retrieval. Real embedder, Chroma
in tmp_path."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from chatbot.confidence import confidence_components, retrieval_certainty
from retrieval import snapshots
from retrieval.example_index import ExampleIndex, normalise_question
from retrieval.ingest import KB_SOURCE, ingest, open_example_index
from retrieval.kb import BadArticle, demo_kb_dir, load_articles, parse_article
from retrieval.retriever import build_retriever
from retrieval.vector_store import open_vector_store
from tests.conftest import make_settings

ARTICLE = """---
id: {id}
title: {title}
intent: {id}
gold_answer: "{answer}"
{examples}---
# {title}

{answer}
"""

CARD_ARRIVAL = ["my card still hasnt come", "ordered a card two weeks ago, where is it?"]
LOST_CARD = ["i lost my card", "my wallet was stolen with my card in it"]


def write_article(folder: Path, article_id: str, title: str, answer: str, examples: list[str] | None) -> Path:
    lines = "" if examples is None else "examples:\n" + "".join(f'  - "{q}"\n' for q in examples)
    path = folder / f"{article_id}.md"
    path.write_text(ARTICLE.format(id=article_id, title=title, answer=answer, examples=lines))
    return path


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    folder.mkdir()
    write_article(folder, "card_arrival", "Where is my card?", "Cards arrive in 5-7 working days.", CARD_ARRIVAL)
    write_article(folder, "lost_card", "Lost or stolen card", "Freeze the card in the app right away.", LOST_CARD)
    write_article(folder, "change_pin", "Changing my PIN", "Change it at any cash machine.", None)
    (folder / "notes.txt").write_text("Branch opening hours are 9 to 5 on weekdays.")
    return folder


@pytest.fixture
def store(tmp_path: Path, embedder: Any) -> Any:
    return open_vector_store(make_settings(tmp_path), embedder)


def kb_entries(index: ExampleIndex) -> dict[str, tuple[str, dict[str, Any]]]:
    """record id -> (question, metadata) of the index's ``kb`` entries."""
    found = index.collection.get(where={"source": KB_SOURCE}, include=["documents", "metadatas"])
    return {
        rid: (doc, meta) for rid, doc, meta in zip(found["ids"], found["documents"], found["metadatas"], strict=True)
    }


def questions_by_article(index: ExampleIndex) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for question, meta in kb_entries(index).values():
        out.setdefault(meta["article_id"], set()).add(question)
    return out


# --- parsing ---------------------------------------------------------------------------------------------------


def test_parse_article_reads_examples_and_defaults_to_none(tmp_path: Path) -> None:
    with_examples = write_article(tmp_path, "card_arrival", "Where is my card?", "5-7 days.", [" where is it ", "late"])
    assert parse_article(with_examples).examples == ("where is it", "late")
    without = write_article(tmp_path, "lost_card", "Lost card", "Freeze it.", None)
    assert parse_article(without).examples == ()
    empty = tmp_path / "empty.md"
    empty.write_text(ARTICLE.format(id="empty", title="T", answer="A", examples="examples:\n"))
    assert parse_article(empty).examples == ()


@pytest.mark.parametrize(
    ("examples", "message"),
    [
        ("examples: where is my card\n", "must be a YAML list"),
        ("examples:\n  where: my card\n", "must be a YAML list"),
        ("examples:\n  - where is my card\n  - 42\n", "example 2 must be a non-empty question"),
        ('examples:\n  - ""\n', "example 1 must be a non-empty question"),
    ],
)
def test_bad_examples_name_the_file(tmp_path: Path, examples: str, message: str) -> None:
    path = tmp_path / "broken.md"
    path.write_text(ARTICLE.format(id="broken", title="T", answer="A", examples=examples))
    with pytest.raises(BadArticle, match=message) as info:
        parse_article(path)
    assert "broken.md" in str(info.value)


def test_every_demo_article_has_four_distinct_examples() -> None:
    articles = load_articles()
    assert all(len(a.examples) == 4 for a in articles)
    questions = [normalise_question(q) for a in articles for q in a.examples]
    assert len(set(questions)) == len(questions) == 4 * len(articles)  # nothing shared between two articles


# --- ingest ----------------------------------------------------------------------------------------------------


def test_ingest_adds_the_examples_as_unmanaged_entries_of_every_snapshot(tmp_path: Path, kb: Path, store: Any) -> None:
    settings = make_settings(tmp_path)
    report = ingest(settings, store, [kb], progress=False)
    assert report.ok and report.examples == 4 and report.to_dict()["examples"] == 4
    index = ExampleIndex.open(settings, store.embeddings)
    assert questions_by_article(index) == {"card_arrival": set(CARD_ARRIVAL), "lost_card": set(LOST_CARD)}
    for _, meta in kb_entries(index).values():
        assert (meta["source"], meta["since"], meta["until"]) == (KB_SOURCE, 0, snapshots.OPEN)
    assert index.count() == 4
    assert index.at(0).count_visible() == index.at(7).count_visible() == 4  # fresh install and any bundle
    assert index.search("has my card been posted", 1)[0].article_id == "card_arrival"


def test_reingesting_unchanged_articles_leaves_the_index_alone(tmp_path: Path, kb: Path, store: Any) -> None:
    settings = make_settings(tmp_path)
    ingest(settings, store, [kb], progress=False)
    index = ExampleIndex.open(settings, store.embeddings)
    before = kb_entries(index)
    again = ingest(settings, store, [kb], progress=False)
    assert (again.unchanged, again.examples, again.examples_removed) == (4, 0, 0)
    assert kb_entries(index) == before


def test_a_changed_article_replaces_its_examples_only(tmp_path: Path, kb: Path, store: Any) -> None:
    settings = make_settings(tmp_path)
    ingest(settings, store, [kb], progress=False)
    index = ExampleIndex.open(settings, store.embeddings)
    index.add(["card not here yet"], ["card_arrival"], source="labelled")  # a labelled CSV's entry stays
    index.write_snapshot(3, ["wheres the card you posted"], ["card_arrival"])  # so does the nightly job's
    new = ["my card has not arrived", "card delivery is late"]
    write_article(kb, "card_arrival", "Where is my card?", "Cards arrive in 5-7 working days.", new)
    report = ingest(settings, store, [kb], progress=False)
    assert (report.replaced, report.unchanged, report.examples, report.examples_removed) == (1, 3, 2, 2)
    assert questions_by_article(index) == {"card_arrival": set(new), "lost_card": set(LOST_CARD)}
    assert index.count() == 6  # 4 kb + the labelled one + the reviewed one

    write_article(kb, "card_arrival", "Where is my card?", "Cards arrive in 5-7 working days.", None)
    emptied = ingest(settings, store, [kb], progress=False)
    assert (emptied.examples, emptied.examples_removed) == (0, 2)
    assert "card_arrival" not in questions_by_article(index)


def test_bad_examples_skip_the_file_and_keep_its_old_examples(tmp_path: Path, kb: Path, store: Any) -> None:
    settings = make_settings(tmp_path)
    ingest(settings, store, [kb], progress=False)
    (kb / "lost_card.md").write_text(
        ARTICLE.format(id="lost_card", title="Lost card", answer="Freeze it.", examples="examples: lost my card\n")
    )
    report = ingest(settings, store, [kb], progress=False)
    assert [(Path(p).name, "examples must be a YAML list" in r) for p, r in report.skipped] == [("lost_card.md", True)]
    index = ExampleIndex.open(settings, store.embeddings)
    assert questions_by_article(index)["lost_card"] == set(LOST_CARD)


def test_prune_removes_the_examples_of_articles_that_are_gone(tmp_path: Path, kb: Path, store: Any) -> None:
    settings = make_settings(tmp_path)
    ingest(settings, store, [kb], progress=False)
    (kb / "lost_card.md").unlink()
    (kb / "notes.txt").unlink()
    index = ExampleIndex.open(settings, store.embeddings)
    kept = ingest(settings, store, [kb], progress=False)
    assert kept.examples_removed == 0 and "lost_card" in questions_by_article(index)  # only with --prune
    pruned = ingest(settings, store, [kb], prune=True, progress=False)
    assert (pruned.pruned, pruned.examples_removed) == (2, 2)
    assert questions_by_article(index) == {"card_arrival": set(CARD_ARRIVAL)}


def test_examples_go_to_the_promoted_embedders_index(tmp_path: Path, kb: Path, embedder: Any) -> None:
    from chatbot.app import build_app
    from retrieval.embedder_registry import forget_cached
    from tests.embedder_support import serve_fine_tuned_embedder

    forget_cached()
    settings = make_settings(tmp_path)
    nightly = build_app(settings, embedder=embedder)  # the nightly job, whose bundle names the embedder
    nightly.upgrade_database()
    model_dir = serve_fine_tuned_embedder(nightly, "emb-test")
    nightly.engine.dispose()
    app = build_app(settings)
    assert ingest(app.settings, app.vector_store, [kb], progress=False).examples == 4
    assert app.active_embedder_path == str(model_dir)
    assert app.example_index.collection.name == "bankbot_kb-emb-test_examples"
    assert questions_by_article(app.example_index)["lost_card"] == set(LOST_CARD)
    assert open_example_index(app.settings, app.vector_store).embeddings is app.vector_store.embeddings
    assert ExampleIndex.open(settings, embedder, kb_collection="bankbot_kb").count() == 0  # not the base one's
    forget_cached()


# --- retrieval -------------------------------------------------------------------------------------------------

CLOSE_ARTICLES = [
    "top_up_reverted",
    "top_up_failed",
    "reverted_card_payment",
    "declined_card_payment",
    "pending_top_up",
    "card_arrival",
]


def test_an_example_steers_retrieval_to_its_article_with_certainty(tmp_path: Path, embedder: Any) -> None:
    settings = make_settings(tmp_path)
    folder = tmp_path / "demo"
    folder.mkdir()
    for article_id in CLOSE_ARTICLES:
        shutil.copy(demo_kb_dir() / f"{article_id}.md", folder)
    store = open_vector_store(settings, embedder)
    assert ingest(settings, store, [folder], progress=False).examples == 4 * len(CLOSE_ARTICLES)
    index = open_example_index(settings, store)
    # a paraphrase of top_up_reverted's "the money I added disappeared from my balance"
    question = "money i added vanished from my balance"

    def top_and_certainty(example_index: Any) -> tuple[str, float]:
        docs = build_retriever(settings, store, example_index).invoke(question)
        parts = confidence_components([], [d.metadata["score"] for d in docs], [d.metadata["rank_score"] for d in docs])
        return docs[0].metadata["article_id"], retrieval_certainty(parts)

    plain_top, plain_certainty = top_and_certainty(None)
    top, certainty = top_and_certainty(index)
    assert plain_top != "top_up_reverted" and plain_certainty < 0.55  # the article text alone gets it wrong
    assert top == "top_up_reverted" and certainty >= 0.55  # sure enough for the fallback gate
