"""A bundle names its embedder: the app of a bundle (what the gate answers with) retrieves with that embedder's model
and collections, and a running server switches embedder and collections together when the production bundle's
embedder changes, and back on a rollback. A rejected bundle's embedder, named by no other bundle but rejected ones,
is discarded: row retired, collections and folder removed, the bundle no longer promotable; so is what a killed night
left, at the start of the next.

Real SQLite and Chroma in a temp dir, the real packaged embedder, the fake LLM. A copy of the packaged embedder's
folder stands in for a fine-tuned one (same vectors, its own collections); an article added only to its knowledge
base tells which collections a question was answered from.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
from langchain_core.documents import Document
from sqlmodel import select

from chatbot.app import build_app
from chatbot.db.models import EmbedderVersion
from chatbot.registry import RegistryError, get_model, in_production
from finetune import discard, registry
from finetune.bundle import bundle_app, follow_production, get_bundle, production_bundle
from finetune.dataset import SFTExample
from finetune.nightly import run_nightly
from retrieval.chroma_collections import chroma_client, embedder_collections
from retrieval.embedder_registry import prepare_embedder
from retrieval.ingest import ingest
from retrieval.kb import demo_kb_dir
from retrieval.vector_store import open_vector_store
from tests.conftest import make_settings
from tests.embedder_support import fine_tuned_folder, name_fine_tuned_embedder, serve_fine_tuned_embedder
from tests.nightly_support import record_night
from ui.server import BundleWatcher

MARKER = ("quokka_crossings", "Quokka crossings", "Quokkas cross the road at the zebra crossing by the branch.")
QUESTION = "where do quokkas cross the road"
LEARNED = ("my plastic never showed up", "Cards arrive within 3 to 5 working days [1].", "card_arrival")


@pytest.fixture
def app(tmp_path: Path, sqlite_url: str, embedder: Any) -> Any:
    bot = build_app(make_settings(tmp_path, database_url=sqlite_url, few_shot_k=2), embedder=embedder)
    bot.upgrade_database()
    kb = tmp_path / "kb"
    kb.mkdir()
    for article in ("activate_my_card", "card_arrival"):
        shutil.copy(demo_kb_dir() / f"{article}.md", kb)
    ingest(bot.settings, bot.vector_store, [kb], progress=False)
    return bot


def candidate_night(app: Any, version: str, embedder_version: str) -> Path:
    """A night's candidate bundle as the nightly job leaves it when its embedder won: one learned example written
    under its snapshot, then the knowledge base, example index and few-shot store re-embedded into the embedder's
    collections, the embedder recorded as a candidate and named by the bundle. Returns the embedder's folder."""
    question, answer, article = LEARNED
    messages = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    learned = SFTExample(str(uuid.uuid4()), question, messages, "approve", article, "", False, article_confirmed=True)
    record_night(app, version, [learned])
    folder = name_fine_tuned_embedder(app, version, embedder_version)
    own_kb = open_vector_store(app.settings, app.embedder, collection_name=f"bankbot_kb-{embedder_version}")
    marker = Document(MARKER[2], metadata={"article_id": MARKER[0], "title": MARKER[1], "chunk": 0})
    own_kb.add_documents([marker], ids=[MARKER[0]])
    return folder


def top_article(bot: Any, question: str) -> str:
    return str(bot.retriever.invoke(question)[0].metadata["article_id"])


def one_embedder(bot: Any) -> bool:
    """Every part that embeds uses the app's own embedder."""
    retriever = bot.retriever
    models = [retriever.vector_store.embeddings.model, retriever.example_index.embeddings.model]
    return retriever.vector_store is bot.vector_store and all(model is bot.embedder for model in models)


def test_the_app_of_a_bundle_with_another_embedder_retrieves_from_that_embedders_collections(app: Any) -> None:
    folder = candidate_night(app, "b1", "emb-b")
    candidate_ref = get_bundle(app, "b1")
    assert (candidate_ref.embedder_version, production_bundle(app).embedder_version) == ("emb-b", None)

    production = bundle_app(app, production_bundle(app))
    assert production.embedder is app.embedder and production.vector_store is app.vector_store  # shared as before
    assert top_article(production, QUESTION) != MARKER[0]

    candidate = bundle_app(app, candidate_ref)
    assert candidate.embedder is not app.embedder and candidate.active_embedder_path == str(folder)
    collections = (
        candidate.vector_store._collection.name,
        candidate.example_index.collection.name,
        candidate.fewshot.vector_store._collection.name,
    )
    assert collections == ("bankbot_kb-emb-b", "bankbot_kb-emb-b_examples", "bankbot_kb-emb-b_fewshot")
    assert one_embedder(candidate)
    assert top_article(candidate, QUESTION) == MARKER[0]
    # The candidate's own snapshot, re-embedded into its embedder's collections, is what it reads.
    question, answer, article = LEARNED
    assert candidate.fewshot.select(question, 1)[0]["answer"] == answer
    assert [hit.article_id for hit in candidate.example_index.search(question, 1)] == [article]
    assert production.fewshot.select(question, 1) == []
    app.engine.dispose()


def test_a_running_server_switches_embedder_and_collections_together_and_back_on_rollback(app: Any) -> None:
    live = build_app(app.settings, embedder=app.embedder)  # a server process; `app` plays the nightly job's
    assert MARKER[0] not in [s.article_id for s in live.pipeline.answer(QUESTION).sources]
    watcher = BundleWatcher(live, every=0)
    assert watcher.check()  # the first check once the model is loaded learns what serves
    before = live.retriever

    candidate_night(app, "b1", "emb-b")
    assert not watcher.check()  # a candidate changes nothing serving
    assert (live.embedder_version, live.retriever) == (None, before)

    registry.promote_version(app, "b1", by="test")
    assert watcher.check()
    assert live.embedder_version == "emb-b" and live.retriever is not before
    assert live.vector_store._collection.name == "bankbot_kb-emb-b" and one_embedder(live)
    assert live.fewshot.vector_store._collection.name == "bankbot_kb-emb-b_fewshot"
    assert live.fewshot.snapshot == get_bundle(app, "b1").index_snapshot
    assert live.pipeline.answer(QUESTION).sources[0].article_id == MARKER[0]

    registry.rollback(app, by="test")
    assert watcher.check()
    assert live.embedder_version is None and live.vector_store._collection.name == "bankbot_kb" and one_embedder(live)
    assert MARKER[0] not in [s.article_id for s in live.pipeline.answer(QUESTION).sources]
    live.engine.dispose()
    app.engine.dispose()


def embedder_rows(app: Any) -> dict[str, str]:
    with app.session() as session:
        return {row.version: row.status for row in session.exec(select(EmbedderVersion)).all()}


def collections_of(app: Any, embedder_version: str) -> set[str]:
    """Which of the embedder's three collections (knowledge base, example index, few-shot store) exist."""
    existing = {c.name for c in chroma_client(app.settings).list_collections()}
    return set(embedder_collections(f"bankbot_kb-{embedder_version}")) & existing


def answered_from(bot: Any) -> list[str]:
    return [source.article_id for source in bot.pipeline.answer("my card has not arrived yet").sources]


def assert_discarded(app: Any, bundle: str, embedder_version: str, folder: Path) -> None:
    """The bundle is rejected; its embedder's row is retired, its collections and folder gone, and a promotion of
    the bundle by hand is refused with one line."""
    assert get_model(app, bundle).status == "rejected"
    assert embedder_rows(app)[embedder_version] == "retired"
    assert collections_of(app, embedder_version) == set() and not folder.exists()
    with pytest.raises(RegistryError) as refused:
        registry.promote_version(app, bundle, by="test")
    line = f"{bundle} cannot be promoted: its embedder {embedder_version} was discarded"
    assert str(refused.value).startswith(line) and "\n" not in str(refused.value)


def test_a_rejected_bundles_embedder_is_discarded_and_production_keeps_serving(app: Any) -> None:
    kept = serve_fine_tuned_embedder(app, "emb-a", bundle="b0")
    follow_production(app)  # as the night does before writing its candidate
    live = build_app(app.settings, embedder=app.embedder)  # a server process; `app` plays the nightly job's
    before = answered_from(live)
    assert before and before[0] == "card_arrival" and live.embedder_version == "emb-a"
    watcher = BundleWatcher(live, every=0)
    assert watcher.check()  # the first check once the model is loaded learns what serves

    folder = candidate_night(app, "b1", "emb-b")
    assert collections_of(app, "emb-b") == set(embedder_collections("bankbot_kb-emb-b")) and folder.is_dir()
    registry.record_gate(app, "b1", promote=False, decision="rejected by the test", metrics={})

    assert_discarded(app, "b1", "emb-b", folder)
    assert embedder_rows(app) == {"emb-a": "production", "emb-b": "retired"}
    # Production as it was: its bundle, its embedder's folder and collections, and a server still answering.
    assert (in_production(app).version, in_production(app).embedder_version) == ("b0", "emb-a")
    assert kept.is_dir() and collections_of(app, "emb-a") == set(embedder_collections("bankbot_kb-emb-a"))
    assert not watcher.check() and live.embedder_version == "emb-a"
    assert answered_from(live) == before
    started_now = build_app(app.settings, embedder=app.embedder)
    assert started_now.embedder_version == "emb-a" and answered_from(started_now) == before
    started_now.engine.dispose()
    live.engine.dispose()
    app.engine.dispose()


def test_an_embedder_a_retired_bundle_names_survives_the_rejection_of_another_bundle_naming_it(app: Any) -> None:
    folder = candidate_night(app, "b1", "emb-b")
    registry.promote_version(app, "b1", by="test")
    record_night(app, "b3")  # a night starts while b1 serves: its candidate names b1's embedder
    assert get_model(app, "b3").embedder_version == "emb-b"
    serve_fine_tuned_embedder(app, "emb-c", bundle="b2")  # meanwhile b2 is promoted: b1 and emb-b are retired
    registry.record_gate(app, "b3", promote=False, decision="rejected by the test", metrics={})

    assert embedder_rows(app) == {"emb-b": "retired", "emb-c": "production"}
    assert folder.is_dir() and collections_of(app, "emb-b") == set(embedder_collections("bankbot_kb-emb-b"))
    # The rollback brings b1 back with its embedder, which still answers from its own collections.
    assert registry.rollback(app, by="test") == ("b2", "b1")
    assert embedder_rows(app) == {"emb-b": "production", "emb-c": "retired"}
    live = build_app(app.settings, embedder=app.embedder)
    assert live.embedder_version == "emb-b" and top_article(live, QUESTION) == MARKER[0]
    live.engine.dispose()
    app.engine.dispose()


def test_a_crashed_nights_unfinished_candidate_has_its_embedder_discarded_too(app: Any) -> None:
    folder = candidate_night(app, "b1", "emb-b")
    before = answered_from(app)
    run_id = get_model(app, "b1").training_run_id
    discard.reject_unfinished_candidates(app, run_id, reason="run failed: killed by the test")

    assert get_model(app, "b1").decision == "run failed: killed by the test"
    assert_discarded(app, "b1", "emb-b", folder)
    assert embedder_rows(app) == {"emb-b": "retired"}
    assert in_production(app).embedder_version is None and answered_from(app) == before
    app.engine.dispose()


def test_the_next_night_rejects_a_killed_nights_candidate_and_discards_every_embedder_it_left(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("finetune.nightly.count_tokens_with", lambda settings: lambda text: len(text.split()))
    # Killed after its bundle named its embedder: the run is still 'running', the bundle still a candidate.
    named = candidate_night(app, "b1", "emb-b")
    # Killed between preparing an embedder and naming it: a candidate row no bundle names.
    orphan = fine_tuned_folder(app.settings.effective_artifact_root, "emb-c")
    prepare_embedder(app.settings, orphan, source_version=app.embedder_version, engine=app.engine)
    assert collections_of(app, "emb-c") == set(embedder_collections("bankbot_kb-emb-c"))
    before = answered_from(app)

    assert run_nightly(app).status == "skipped"  # nothing reviewed to learn from: the clean-up still runs

    assert get_model(app, "b1").decision == "run failed: its process died"
    assert_discarded(app, "b1", "emb-b", named)
    assert embedder_rows(app) == {"emb-b": "retired", "emb-c": "retired"}
    assert collections_of(app, "emb-c") == set() and not orphan.exists()
    assert in_production(app).embedder_version is None and answered_from(app) == before
    app.engine.dispose()
