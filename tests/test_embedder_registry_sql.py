"""The active embedder in SQL (retrieval.embedder_registry): an embedder served through the promotion of a bundle
naming it, stored relative to the artifact root, read by another replica mounting the root elsewhere and by another
process within the cache time, one production row (the production bundle's) under concurrent bundle promotions, a
folder outside the root refused before anything is re-embedded, and the import of an older release's active.json."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from chatbot.app import build_app
from chatbot.artifacts import ArtifactPathError
from chatbot.db import crud
from chatbot.db.engine import make_engine
from chatbot.db.migrate import upgrade
from chatbot.db.models import EmbedderStatus, EmbedderVersion
from chatbot.registry import in_production
from chatbot.settings import Settings
from finetune import registry
from retrieval import embedder_registry
from retrieval.embedder_registry import active_embedder, active_embedder_version, legacy_pointer_file, prepare_embedder
from retrieval.kb import demo_kb_dir
from retrieval.vector_store import kb_collection_name
from tests.conftest import make_settings
from tests.embedder_support import fine_tuned_folder, name_fine_tuned_embedder, serve_fine_tuned_embedder
from tests.nightly_support import record_night, slow_promotion_checks
from tests.waiting import at_once

DEADLINE_S = 60.0
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    embedder_registry.forget_cached()


def migrated(settings: Settings) -> Any:
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    return engine


def production_rows(engine: Any) -> list[tuple[str, str, str]]:
    with Session(engine) as session:
        rows = session.exec(select(EmbedderVersion).order_by(EmbedderVersion.version)).all()
        return [(r.version, r.path, r.status) for r in rows]


def test_a_promotion_is_stored_relative_and_a_root_mounted_elsewhere_serves_the_same_embedder(
    tmp_path: Path, sqlite_url: str, embedder: Any
) -> None:
    from retrieval.ingest import ingest
    from retrieval.vector_store import open_vector_store

    shared = {"database_url": sqlite_url, "chroma_path": tmp_path / "chroma"}  # one database, one Chroma
    first_root = tmp_path / "mount-a"
    first = make_settings(tmp_path / "host-a", artifact_root=first_root, **shared)
    nightly = build_app(first, embedder=embedder)  # host a runs the nightly job
    nightly.upgrade_database()
    engine = nightly.engine
    kb = tmp_path / "kb"
    kb.mkdir()
    shutil.copy(demo_kb_dir() / "activate_my_card.md", kb)
    store = open_vector_store(first, embedder)
    ingest(first, store, [kb], progress=False)

    model_dir = serve_fine_tuned_embedder(nightly, "emb-t")
    assert production_rows(engine) == [("emb-t", "embedders/emb-t", "production")]
    assert (active_embedder(first), active_embedder_version(first)) == (str(model_dir), "emb-t")

    second_root = tmp_path / "mount-b"  # another replica: the same volume at another mount point
    shutil.copytree(first_root, second_root, symlinks=True)
    shutil.rmtree(first_root)
    second = make_settings(tmp_path / "host-b", artifact_root=second_root, **shared)
    app = build_app(second)
    assert app.active_embedder_path == str(second_root / "embedders" / "emb-t")
    assert app.vector_store._collection.name == kb_collection_name(second) == "bankbot_kb-emb-t"
    assert app.vector_store._collection.count() == store._collection.count() > 0
    question = "How do I activate my card?"
    assert app.embedder.encode(question).tolist() == pytest.approx(embedder.encode(question).tolist(), abs=1e-5)
    assert app.retriever.invoke(question)[0].metadata["article_id"] == "activate_my_card"
    engine.dispose()
    app.engine.dispose()


def test_reads_are_served_from_the_cache_not_one_query_each(tmp_path: Path, sqlite_url: str) -> None:
    settings = make_settings(tmp_path, database_url=sqlite_url)
    engine = migrated(settings)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    assert active_embedder_version(settings, engine=engine) is None
    after_first_read = len(statements)
    assert after_first_read > 0
    for _ in range(200):  # what retrieval calls do
        assert active_embedder_version(settings, engine=engine) is None
    assert len(statements) == after_first_read
    engine.dispose()


# The other process: reads (and caches) the active embedder, says so, then reads again until the version changes.
_WATCH_IN_SUBPROCESS = """
import sys, time
from chatbot.settings import Settings
from retrieval.embedder_registry import active_embedder_version
first = active_embedder_version(Settings())
print("ready", first, flush=True)
deadline = time.monotonic() + float(sys.argv[1])
while time.monotonic() < deadline:
    seen = active_embedder_version(Settings())
    if seen != first:
        print("seen", seen, flush=True)
        break
    time.sleep(0.05)
"""


def test_a_promotion_is_seen_by_another_process_within_the_cache_time(
    tmp_path: Path, database_url: str, embedder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import chatbot.model_loading

    monkeypatch.setattr(chatbot.model_loading, "load_embedder", lambda settings, source=None: embedder)
    settings = make_settings(tmp_path, database_url=database_url)
    nightly = build_app(settings, embedder=embedder)
    nightly.upgrade_database()
    record_night(nightly, "b1")
    name_fine_tuned_embedder(nightly, "b1", "emb-p")  # a candidate: the watcher must not see it yet
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANKBOT_")}
    env.update(
        BANKBOT_DATA_DIR=str(settings.data_dir), BANKBOT_DATABASE_URL=database_url, BANKBOT_CONFIG="/nonexistent"
    )
    watcher = subprocess.Popen(
        [sys.executable, "-c", _WATCH_IN_SUBPROCESS, str(DEADLINE_S)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert _line(watcher, deadline_s=DEADLINE_S * 3) == "ready None"  # imports are slow on a busy machine
        registry.promote_version(nightly, "b1", by="test")
        promoted_at = time.monotonic()
        assert _line(watcher, deadline_s=DEADLINE_S) == "seen emb-p"
        assert time.monotonic() - promoted_at <= embedder_registry.CACHE_SECONDS + 2.0
    finally:
        watcher.kill()
        watcher.communicate(timeout=DEADLINE_S)
    nightly.engine.dispose()


def _line(process: subprocess.Popen[str], *, deadline_s: float) -> str:
    """The next stdout line of ``process``, or a failure at the deadline (with what it wrote to stderr)."""
    import selectors

    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=deadline_s):
            process.kill()
            raise AssertionError(f"no line within {deadline_s} s: {process.communicate(timeout=DEADLINE_S)[1][-2000:]}")
    line = process.stdout.readline().strip()
    assert line, process.communicate(timeout=DEADLINE_S)[1][-2000:]
    return line


def test_two_bundle_promotions_at_once_leave_one_production_embedder_the_production_bundles(
    tmp_path: Path, database_url: str, embedder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import chatbot.model_loading

    monkeypatch.setattr(chatbot.model_loading, "load_embedder", lambda settings, source=None: embedder)
    settings = make_settings(tmp_path, database_url=database_url)
    app = build_app(settings, embedder=embedder)
    app.upgrade_database()
    embedder_of = {"b-a": "emb-a", "b-b": "emb-b"}  # each night's bundle names the embedder prepared for it
    for bundle, embedder_version in embedder_of.items():
        record_night(app, bundle)
        name_fine_tuned_embedder(app, bundle, embedder_version)
    slow_promotion_checks(monkeypatch)
    calls = [lambda b=b: registry.promote_version(app, b, by="test") for b in embedder_of]
    results = dict(zip(embedder_of, at_once(*calls, timeout=DEADLINE_S * 2), strict=True))
    winner = in_production(app).version
    assert winner in embedder_of, results
    loser = next(bundle for bundle in embedder_of if bundle != winner)
    # Serialised: the later promotion replaced the earlier one, which replaced the base model.
    assert results == {winner: loser, loser: None}
    rows = production_rows(app.engine)
    assert sorted((v, s) for v, _, s in rows) == sorted(
        [(embedder_of[winner], "production"), (embedder_of[loser], "retired")]
    )
    assert in_production(app).embedder_version == active_embedder_version(settings) == embedder_of[winner]
    assert {path for _, path, _ in rows} == {"embedders/emb-a", "embedders/emb-b"}
    # promoting the retired bundle again flips its embedder's row back: still one production row
    assert registry.promote_version(app, loser, by="test") == winner
    assert sorted((v, s) for v, _, s in production_rows(app.engine)) == sorted(
        [(embedder_of[loser], "production"), (embedder_of[winner], "retired")]
    )
    assert active_embedder_version(settings) == embedder_of[loser]
    app.engine.dispose()


def test_a_folder_outside_the_root_is_refused_before_anything_is_re_embedded(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import chatbot.model_loading

    loaded: list[str | None] = []
    monkeypatch.setattr(chatbot.model_loading, "load_embedder", lambda settings, source=None: loaded.append(source))
    settings = make_settings(tmp_path, database_url=sqlite_url, artifact_root=tmp_path / "root")
    engine = migrated(settings)
    outside = fine_tuned_folder(tmp_path / "elsewhere", "emb-x")
    with pytest.raises(ArtifactPathError, match="not inside the artifact root"):
        prepare_embedder(settings, outside, source_version=None, engine=engine)
    # no model loaded, no collection written (not even Chroma's folder), no candidate recorded
    assert loaded == [] and not settings.effective_chroma_path.exists()
    assert production_rows(engine) == []
    engine.dispose()


def _write_legacy_pointer(settings: Settings, folder: Path, version: str) -> Path:
    pointer = legacy_pointer_file(settings)
    pointer.parent.mkdir(parents=True, exist_ok=True)
    pointer.write_text(json.dumps({"path": str(folder), "version": version, "metrics": {"accuracy_at_1": 0.7}}))
    return pointer


def test_a_legacy_active_json_is_imported_once_and_the_table_wins_afterwards(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url=database_url)
    old = fine_tuned_folder(settings.effective_artifact_root, "emb-old")
    pointer = _write_legacy_pointer(settings, old, "emb-old")
    engine = migrated(settings)
    assert active_embedder_version(settings) == "emb-old"
    assert production_rows(engine) == [("emb-old", "embedders/emb-old", "production")]
    assert not pointer.exists() and pointer.with_name("active.json.imported").is_file()
    with Session(engine) as session:
        row = crud.production_embedder(session=session)
        assert row is not None and row.metrics == {"accuracy_at_1": 0.7} and row.promoted_at is not None

    # another host's stale pointer: the table already names the production embedder, so it is only renamed
    root = settings.effective_artifact_root
    other = make_settings(tmp_path / "host-b", database_url=database_url, artifact_root=root)
    stale = _write_legacy_pointer(other, fine_tuned_folder(root, "emb-stale"), "emb-stale")
    embedder_registry.forget_cached()  # the other host is another process, with a cache of its own
    assert active_embedder_version(other) == "emb-old"
    assert not stale.exists() and production_rows(engine) == [("emb-old", "embedders/emb-old", "production")]
    engine.dispose()


def test_before_the_table_exists_the_legacy_pointer_is_read_and_no_database_is_created(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assert active_embedder_version(settings) is None
    folder = fine_tuned_folder(settings.effective_artifact_root, "emb-1")
    pointer = _write_legacy_pointer(settings, folder, "emb-1")
    embedder_registry.forget_cached()
    assert (active_embedder(settings), active_embedder_version(settings)) == (str(folder), "emb-1")
    assert pointer.is_file() and not (settings.data_dir / "bankbot.db").exists()


def test_a_promoted_folder_missing_on_this_host_means_the_configured_embedder(tmp_path: Path, sqlite_url: str) -> None:
    settings = make_settings(tmp_path, database_url=sqlite_url)
    engine = migrated(settings)
    with Session(engine) as session:
        crud.set_production_embedder(session=session, version="emb-gone", path="embedders/emb-gone", metrics={})
        session.commit()
    assert (active_embedder(settings), active_embedder_version(settings)) == (None, None)
    assert kb_collection_name(settings) == "bankbot_kb"  # the configured embedder's vectors, never a mixed pair
    assert production_rows(engine) == [("emb-gone", "embedders/emb-gone", EmbedderStatus.production)]
    engine.dispose()


def test_an_unreachable_database_keeps_the_configured_embedder(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url="postgresql+psycopg://postgres@127.0.0.1:1/nothing")
    assert (active_embedder(settings), active_embedder_version(settings)) == (None, None)
