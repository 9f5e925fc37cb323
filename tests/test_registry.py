"""What is in production (chatbot.registry.in_production): the production bundle and the production embedder, read
in one place, on a real SQLite database with the real registry writes (finetune.registry, promote_embedder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chatbot.app import build_app
from chatbot.registry import AdapterRef, Production, get_model, in_production
from finetune import registry, training_runs
from retrieval import embedder_registry
from retrieval.embedder_registry import promote_embedder
from tests.conftest import make_settings

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


def promote_bundle(app: Any, version: str, adapter: Path | None, metrics: dict[str, Any]) -> None:
    """Record ``version`` as the nightly job does, and let its gate promote it."""
    run_id = training_runs.start_run(app, base_model="base", hyperparameters={})
    registry.record_candidate(
        app, version=version, adapter_path=adapter, base_model="base", data_hash="h", run_id=run_id
    )
    registry.record_gate(app, version, promote=True, decision="decided by the test", metrics=metrics)


def promote_fine_tuned_embedder(app: Any, version: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Promote an embedder folder under the artifact root; no collection exists yet, so nothing is re-embedded and
    the model itself is never loaded."""
    import chatbot.model_loading

    monkeypatch.setattr(chatbot.model_loading, "load_embedder", lambda settings, source=None: object())
    folder = app.settings.effective_artifact_root / "embedders" / version
    folder.mkdir(parents=True)
    assert promote_embedder(app.settings, folder, engine=app.engine) == version
    return folder


def test_nothing_promoted_is_the_base_model_and_the_configured_embedder(app: Any) -> None:
    assert in_production(app) == BASE
    app.engine.dispose()


def test_a_promoted_bundle_and_embedder_are_what_is_in_production(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    adapter = adapter_folder(app, "v1")
    promote_bundle(app, "v1", adapter, {"generated_answers": {"earned": False}})
    embedder = promote_fine_tuned_embedder(app, "emb-1", monkeypatch)
    assert in_production(app) == Production(
        version="v1",
        bundle_id=get_model(app, "v1").id,
        adapter=AdapterRef("v1", adapter),
        generated_answers=False,
        embedder_version="emb-1",
        embedder_path=embedder,
    )

    # A bundle without an adapter serves the base model; its gate did not decide the answer mode, so it shows them.
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


def test_rolling_back_the_only_bundle_leaves_the_base_model_and_keeps_the_embedder(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    promote_bundle(app, "v1", adapter_folder(app, "v1"), {"generated_answers": {"earned": True}})
    embedder = promote_fine_tuned_embedder(app, "emb-1", monkeypatch)
    assert registry.rollback(app, by="test") == ("v1", None)
    assert in_production(app) == Production(
        version=None,
        bundle_id=None,
        adapter=None,
        generated_answers=None,
        embedder_version="emb-1",
        embedder_path=embedder,
    )
    app.engine.dispose()
