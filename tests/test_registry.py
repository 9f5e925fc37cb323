"""What is in production (chatbot.registry.in_production): the production bundle and the production embedder, read
in one place, on a real SQLite database with the real registry writes (finetune.registry, and
retrieval.embedder_registry.prepare_embedder for a night's embedder); the embedder a bundle names is promoted and
rolled back with it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from chatbot.app import build_app
from chatbot.db import crud
from chatbot.db.models import EmbedderVersion
from chatbot.registry import AdapterRef, Production, RegistryError, get_model, in_production
from finetune import discard, registry, training_runs
from retrieval import embedder_registry
from tests.conftest import make_settings
from tests.embedder_support import name_fine_tuned_embedder

BASE = Production(
    version=None, bundle_id=None, adapter=None, generated_answers=None, embedder_version=None, embedder_path=None
)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    embedder_registry.forget_cached()


@pytest.fixture
def app(tmp_path: Path, sqlite_url: str) -> Any:
    bot = build_app(make_settings(tmp_path, database_url=sqlite_url))
    bot.upgrade_database()
    return bot


def adapter_folder(app: Any, version: str) -> Path:
    folder = app.settings.effective_artifact_root / "adapters" / version
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text("{}")
    return folder


@pytest.fixture
def no_model_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """No collection exists in these tests, so preparing an embedder re-embeds nothing: its model is never used."""
    import chatbot.model_loading

    monkeypatch.setattr(chatbot.model_loading, "load_embedder", lambda settings, source=None: object())


def promote_bundle(
    app: Any, version: str, adapter: Path | None, metrics: dict[str, Any], *, embedder: str | None = None
) -> Path | None:
    """Record ``version`` as the nightly job does (naming its own fine-tuned ``embedder``, prepared for it, when
    given: ``tests.embedder_support``), and let its gate promote it. Returns the embedder's folder."""
    run_id = training_runs.start_run(app, base_model="base", hyperparameters={})
    registry.record_candidate(
        app, version=version, adapter_path=adapter, base_model="base", data_hash="h", run_id=run_id
    )
    folder = name_fine_tuned_embedder(app, version, embedder) if embedder is not None else None
    registry.record_gate(app, version, promote=True, decision="decided by the test", metrics=metrics)
    return folder


def test_nothing_promoted_is_the_base_model_and_the_configured_embedder(app: Any) -> None:
    assert in_production(app) == BASE
    app.engine.dispose()


@pytest.mark.usefixtures("no_model_load")
def test_a_promoted_bundle_and_embedder_are_what_is_in_production(app: Any) -> None:
    adapter = adapter_folder(app, "v1")
    embedder = promote_bundle(app, "v1", adapter, {"generated_answers": {"earned": False}}, embedder="emb-1")
    assert in_production(app) == Production(
        version="v1",
        bundle_id=get_model(app, "v1").id,
        adapter=AdapterRef("v1", adapter),
        generated_answers=False,
        embedder_version="emb-1",
        embedder_path=embedder,
    )

    # A bundle without an adapter serves the base model; its gate did not decide the answer mode, so it shows them.
    # Without an embedder of its own it names the one that served when it was recorded.
    promote_bundle(app, "v2", None, {})
    assert in_production(app) == Production(
        version="v2",
        bundle_id=get_model(app, "v2").id,
        adapter=None,
        generated_answers=True,
        embedder_version="emb-1",
        embedder_path=embedder,
    )
    app.engine.dispose()


@pytest.mark.usefixtures("no_model_load")
def test_rolling_back_the_only_bundle_serves_the_base_model_with_the_configured_embedder(app: Any) -> None:
    # v1 names its own fine-tuned embedder; before it, the base model served with the configured one.
    promote_bundle(app, "v1", adapter_folder(app, "v1"), {"generated_answers": {"earned": True}}, embedder="emb-1")
    assert serving(app) == ("v1", "emb-1", {"emb-1": "production"})
    assert registry.rollback(app, by="test") == ("v1", None)
    assert in_production(app) == BASE
    assert serving(app) == (None, None, {"emb-1": "retired"})
    app.engine.dispose()


def candidate_embedder(app: Any, version: str) -> Path:
    """A candidate embedder as a night leaves it: its folder under the artifact root and its 'candidate' row."""
    folder = app.settings.effective_artifact_root / "embedders" / version
    folder.mkdir(parents=True)
    with app.session() as session:
        crud.add_candidate_embedder(session=session, version=version, path=f"embedders/{version}", metrics={})
        session.commit()
    return folder


def record_bundle(app: Any, version: str, embedder: str | None) -> None:
    """A candidate bundle naming ``embedder`` (None: whatever production serves when it is recorded)."""
    run_id = training_runs.start_run(app, base_model="base", hyperparameters={})
    registry.record_candidate(app, version=version, adapter_path=None, base_model="base", data_hash="h", run_id=run_id)
    if embedder is not None:
        registry.record_embedder(app, version, embedder_version=embedder, summary={"won": True})


def serving(app: Any) -> tuple[str | None, str | None, dict[str, str]]:
    """(production bundle, production embedder, status of every embedder row)."""
    production = in_production(app)
    with app.session() as session:
        statuses = {row.version: row.status for row in session.exec(select(EmbedderVersion)).all()}
    return production.version, production.embedder_version, statuses


def test_a_candidates_embedder_waits_for_its_bundle_and_a_promotion_flips_both_in_one_transaction(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedder = candidate_embedder(app, "emb-1")
    record_bundle(app, "v1", "emb-1")
    assert serving(app) == (None, None, {"emb-1": "candidate"})

    # The embedder flip fails inside the promotion's transaction: the bundle does not flip either.
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("the embedder flip failed")

    with monkeypatch.context() as patched:
        patched.setattr(crud, "set_production_embedder", broken)
        with pytest.raises(RuntimeError, match="embedder flip failed"):
            registry.promote_version(app, "v1", by="test")
    assert serving(app) == (None, None, {"emb-1": "candidate"})

    assert registry.promote_version(app, "v1", by="test") is None
    assert serving(app) == ("v1", "emb-1", {"emb-1": "production"})
    assert in_production(app).embedder_path == embedder
    # A bundle recorded now names the embedder that serves.
    record_bundle(app, "v2", None)
    assert get_model(app, "v2").embedder_version == "emb-1"
    app.engine.dispose()


def test_rollback_restores_the_previous_bundles_embedder(app: Any) -> None:
    for version, embedder in (("v1", "emb-1"), ("v2", "emb-2")):
        candidate_embedder(app, embedder)
        record_bundle(app, version, embedder)
        registry.promote_version(app, version, by="test")
    record_bundle(app, "v3", None)  # no embedder of its own: it keeps emb-2
    registry.promote_version(app, "v3", by="test")
    assert serving(app) == ("v3", "emb-2", {"emb-1": "retired", "emb-2": "production"})

    assert registry.rollback(app, by="test") == ("v3", "v2")
    assert serving(app) == ("v2", "emb-2", {"emb-1": "retired", "emb-2": "production"})
    assert registry.rollback(app, by="test") == ("v2", "v1")
    assert serving(app) == ("v1", "emb-1", {"emb-1": "production", "emb-2": "retired"})
    assert registry.rollback(app, by="test") == ("v1", None)
    assert serving(app) == (None, None, {"emb-1": "retired", "emb-2": "retired"})
    app.engine.dispose()


def test_a_bundle_whose_embedder_folder_is_missing_is_not_promoted(app: Any) -> None:
    shutil.rmtree(candidate_embedder(app, "emb-1"))
    record_bundle(app, "v1", "emb-1")
    with pytest.raises(RegistryError, match=r"embedder folder .* is missing"):
        registry.promote_version(app, "v1", by="test")
    assert serving(app) == (None, None, {"emb-1": "candidate"})
    app.engine.dispose()


def test_a_rejected_bundles_embedder_is_discarded_only_when_no_other_live_bundle_names_it(app: Any) -> None:
    folder = candidate_embedder(app, "emb-1")
    record_bundle(app, "v1", "emb-1")
    record_bundle(app, "v2", "emb-1")  # two candidates name it: v1's night is still in progress
    registry.record_gate(app, "v2", promote=False, decision="rejected by the test", metrics={})
    assert serving(app) == (None, None, {"emb-1": "candidate"}) and folder.is_dir()

    discard.reject_unfinished_candidates(app, get_model(app, "v1").training_run_id, reason="run failed: test")
    assert serving(app) == (None, None, {"emb-1": "retired"}) and not folder.exists()
    with app.session() as session:
        row = crud.get_embedder_version(session=session, version="emb-1")
        assert row is not None and row.metrics["discarded"]["why"] == "bundle v1 rejected unfinished"
    for version in ("v1", "v2"):
        with pytest.raises(RegistryError, match=f"^{version} cannot be promoted: its embedder emb-1 was discarded"):
            registry.promote_version(app, version, by="test")
    assert serving(app) == (None, None, {"emb-1": "retired"})
    app.engine.dispose()


def test_a_failure_to_remove_a_discarded_embedders_files_is_logged_and_the_rejection_stands(
    app: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import retrieval.chroma_collections

    def broken(*args: Any, **kwargs: Any) -> None:
        raise PermissionError("read-only volume\nsecond line")

    folder = candidate_embedder(app, "emb-1")
    record_bundle(app, "v1", "emb-1")
    monkeypatch.setattr(retrieval.chroma_collections, "delete_collections", broken)
    monkeypatch.setattr(embedder_registry.shutil, "rmtree", broken)
    with caplog.at_level("WARNING", logger="retrieval.embedder_registry"):
        registry.record_gate(app, "v1", promote=False, decision="rejected by the test", metrics={})
    assert get_model(app, "v1").status == "rejected" and folder.is_dir()  # left behind, and nothing reads it
    assert serving(app) == (None, None, {"emb-1": "retired"})
    assert [record.getMessage() for record in caplog.records] == [
        "embedder emb-1: could not delete its collections, left behind: PermissionError: read-only volume",
        "embedder emb-1: could not remove its folder embedders/emb-1: PermissionError: read-only volume",
    ]
    app.engine.dispose()
