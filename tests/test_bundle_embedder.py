"""A bundle names its embedder: the app of a bundle (what the gate answers with) retrieves with that embedder's model
and collections, and a running server switches embedder and collections together when the production bundle's
embedder changes, and back on a rollback.

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

from chatbot.app import build_app
from finetune import registry
from finetune.bundle import bundle_app, get_bundle, production_bundle
from finetune.dataset import SFTExample
from retrieval.ingest import ingest
from retrieval.kb import demo_kb_dir
from retrieval.vector_store import open_vector_store
from tests.conftest import make_settings
from tests.embedder_support import name_fine_tuned_embedder
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
