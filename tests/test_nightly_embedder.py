"""The nightly job with ``train_embedder``: the candidate embedder is trained and compared with the live retriever
before the gate; when it wins, its collections are re-embedded and the candidate bundle names it, and only that
bundle's promotion makes it serve. A rejected night leaves production's embedder as it was though its embedder won,
and discards that embedder (row retired, collections and folder removed); a promoted one flips bundle and embedder
together; a losing embedder is deleted and the bundle keeps production's, as it does when the embedder step fails.

The tiny random Llama of tests/nightly_support.py, the real packaged embedder fine-tuned for real, real SQLite and
Chroma. Four demo articles are ingested, and the retrieval comparison runs on the demo eval questions about them.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

import evals.retrieval
from chatbot import registry
from chatbot.app import build_app
from chatbot.db.models import EmbedderVersion
from finetune import training_runs
from finetune.embedder import embedders_dir
from finetune.lora import LoraHyperparameters
from finetune.nightly import NightlyOptions, embedder_step, run_nightly
from finetune.registry import record_candidate, rollback
from retrieval.chroma_collections import chroma_client, embedder_collections
from retrieval.ingest import ingest
from retrieval.kb import demo_kb_dir
from tests.conftest import make_settings
from tests.nightly_support import QUESTIONS, make_tiny_model, reviewed_turn, reviewers

FAST = LoraHyperparameters(max_steps=2, eval_steps=2, batch_size=2, max_seq_length=192, prompt_budget=128)
ARTICLES = ("activate_my_card", "card_arrival", "apple_pay_or_google_pay", "automatic_top_up")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model(tmp_path_factory)


@pytest.fixture
def app(tmp_path: Path, tiny_model: Path, embedder: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    settings = make_settings(
        tmp_path, llm_model=str(tiny_model), max_new_tokens=8, gate_eval_questions=3, min_new_examples=3, few_shot_k=0
    )
    bot = build_app(settings, embedder=embedder)
    bot.upgrade_database()
    kb = tmp_path / "kb"
    kb.mkdir()
    for article in ARTICLES:
        shutil.copy(demo_kb_dir() / f"{article}.md", kb)
    ingest(bot.settings, bot.vector_store, [kb], progress=False)
    queries = [q for q in evals.retrieval.demo_eval_queries() if q.label in ARTICLES]
    monkeypatch.setattr(evals.retrieval, "demo_eval_queries", lambda: queries)
    ids = reviewers(bot, 2)
    for question, answer, verdict, fix in QUESTIONS:
        reviewed_turn(bot, question, answer, verdict, correction=fix, reviewer_ids=ids)
    return bot


def night(app: Any, *, gate_margin: float, embedder_margin: float) -> tuple[Any, Any]:
    """One nightly run whose gate needs ``gate_margin`` and whose embedder needs ``embedder_margin``; returns its
    result and its bundle's row."""
    app.settings.promotion_margin = gate_margin
    options = NightlyOptions(hyperparameters=FAST, force=True, train_embedder=True, embedder_margin=embedder_margin)
    result = run_nightly(app, options)
    return result, registry.get_model(app, str(result.version))


def embedder_rows(app: Any) -> dict[str, str]:
    with app.session() as session:
        return {row.version: row.status for row in session.exec(select(EmbedderVersion)).all()}


def serving(app: Any) -> tuple[str | None, str | None]:
    """The production bundle and embedder; a server started now retrieves with that embedder."""
    production = registry.in_production(app)
    fresh = build_app(app.settings)
    assert fresh.embedder_version == production.embedder_version
    fresh.engine.dispose()
    return production.version, production.embedder_version


def test_a_nights_embedder_serves_only_with_its_promoted_bundle(app: Any) -> None:
    # Night 1: the embedder beats the live retriever, the bundle does not pass the gate.
    first, rejected = night(app, gate_margin=5.0, embedder_margin=-1.0)
    assert first.status == "rejected", first.message
    won = training_runs.list_runs(app)[0].metrics["embedder"]
    assert won["won"] and rejected.embedder_version == won["version"] == rejected.eval_metrics["embedder"]["version"]
    # The gate judged the bundle with its embedder.
    assert rejected.eval_metrics["embedders"] == {"candidate": won["version"], "production": None}
    assert serving(app) == (None, None)
    # No other bundle names it: its row is retired, its folder and re-embedded collections are removed, and the
    # configured embedder's collections, which production reads, are all there.
    assert embedder_rows(app) == {won["version"]: "retired"}
    assert not (embedders_dir(app.settings) / won["version"]).exists()
    collections = {c.name for c in chroma_client(app.settings).list_collections()}
    assert not set(embedder_collections(f"bankbot_kb-{won['version']}")) & collections
    assert set(embedder_collections("bankbot_kb")) <= collections
    assert app.retriever.invoke("How do I activate my new card?")[0].metadata["article_id"] == "activate_my_card"

    # Night 2: both pass; the promotion flips the bundle and its embedder together.
    second, promoted = night(app, gate_margin=-1.0, embedder_margin=-1.0)
    assert second.status == "promoted", second.message
    assert promoted.embedder_version not in (None, won["version"])
    assert serving(app) == (second.version, promoted.embedder_version)
    assert embedder_rows(app) == {won["version"]: "retired", promoted.embedder_version: "production"}

    # Night 3: the embedder loses; its folder goes and the bundle names production's embedder.
    third, kept = night(app, gate_margin=-1.0, embedder_margin=5.0)
    assert third.status == "promoted", third.message
    lost = training_runs.list_runs(app)[0].metrics["embedder"]
    assert not lost["won"] and not (embedders_dir(app.settings) / lost["version"]).exists()
    assert kept.embedder_version == promoted.embedder_version
    assert serving(app) == (third.version, promoted.embedder_version)

    # Rolling back to night 2's bundle keeps its embedder; once more, and the base model serves with the configured.
    assert rollback(app, by="test") == (third.version, second.version)
    assert serving(app) == (second.version, promoted.embedder_version)
    assert rollback(app, by="test") == (second.version, None)
    assert serving(app) == (None, None)
    app.engine.dispose()


def test_a_failed_embedder_step_is_recorded_and_the_bundle_keeps_productions_embedder(
    tmp_path: Path, sqlite_url: str, embedder: Any
) -> None:
    bot = build_app(make_settings(tmp_path, database_url=sqlite_url), embedder=embedder)
    bot.upgrade_database()
    run_id = training_runs.start_run(bot, base_model="fake", hyperparameters={})
    record_candidate(bot, version="b1", adapter_path=None, base_model="fake", data_hash="h", run_id=run_id)
    outcome = embedder_step(bot, "b1", [])  # nothing ingested: the retrieval comparison cannot run
    assert "knowledge base is empty" in outcome["error"]
    assert registry.get_model(bot, "b1").embedder_version is None and embedder_rows(bot) == {}
    assert not embedders_dir(bot.settings).exists() or not any(embedders_dir(bot.settings).iterdir())
    bot.engine.dispose()
