"""Artifact paths in SQL relative to the shared artifact root (chatbot.artifacts), the registry storing adapters that
way, a root mounted elsewhere (another replica) serving the same adapter, and migration 0007 on both databases."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from chatbot.app import build_app
from chatbot.artifacts import ArtifactPathError, relative_under, resolve_artifact, to_artifact_ref
from chatbot.db.engine import make_engine
from chatbot.db.migrate import current_revision, downgrade, upgrade
from chatbot.registry import AdapterRef, RegistryError, get_model, list_models, production_adapter
from chatbot.settings import Settings
from finetune import registry, training_runs
from tests.conftest import make_settings


def _settings(root: str | None, data_dir: str = "/srv/bankbot-data") -> Settings:
    return Settings(data_dir=Path(data_dir), artifact_root=Path(root) if root else None)


# --- the two helpers, exact values --------------------------------------------------------------------------------
def test_the_artifact_root_defaults_to_the_data_dir_and_can_be_set() -> None:
    assert _settings(None).effective_artifact_root == Path("/srv/bankbot-data")
    assert _settings("/mnt/shared").effective_artifact_root == Path("/mnt/shared")
    assert Settings(data_dir=Path("/d"), artifact_root=Path("~/art")).effective_artifact_root == Path.home() / "art"


def test_a_path_under_the_root_is_stored_relative_in_posix_style() -> None:
    settings = _settings("/mnt/shared")
    assert to_artifact_ref(settings, Path("/mnt/shared/adapters/lora-1")) == "adapters/lora-1"
    assert to_artifact_ref(settings, "/mnt/shared/embedders/emb-2/") == "embedders/emb-2"
    assert to_artifact_ref(settings, "/mnt/shared/adapters/../embedders/emb-3") == "embedders/emb-3"
    assert to_artifact_ref(_settings("/mnt/shared/"), "/mnt/shared/a/b/c") == "a/b/c"


def test_a_path_outside_the_root_is_refused_with_one_clear_error() -> None:
    settings = _settings("/mnt/shared")
    for outside in ("/mnt/other/adapters/v1", "/mnt/shared-2/v1", "/mnt/shared/../x", "/mnt/shared"):
        with pytest.raises(ArtifactPathError) as raised:
            to_artifact_ref(settings, outside)
        message = str(raised.value)
        assert "not inside the artifact root /mnt/shared" in message and "BANKBOT_ARTIFACT_ROOT" in message
        assert "\n" not in message


def test_a_relative_reference_resolves_under_the_root_and_an_absolute_one_is_honoured() -> None:
    settings = _settings("/mnt/shared")
    assert resolve_artifact(settings, "adapters/lora-1") == Path("/mnt/shared/adapters/lora-1")
    assert resolve_artifact(_settings("/elsewhere/mount"), "adapters/lora-1") == Path(
        "/elsewhere/mount/adapters/lora-1"
    )
    assert resolve_artifact(settings, "/old/host/adapters/lora-0") == Path("/old/host/adapters/lora-0")
    assert resolve_artifact(settings, to_artifact_ref(settings, "/mnt/shared/x/y")) == Path("/mnt/shared/x/y")


def test_references_climbing_out_with_dotdot_and_empty_ones_are_refused() -> None:
    settings = _settings("/mnt/shared")
    for bad in ("../etc/passwd", "adapters/../../etc", "a/b/../../..", "", "  "):
        with pytest.raises(ArtifactPathError):
            resolve_artifact(settings, bad)


def test_relative_under_tells_inside_from_outside() -> None:
    assert relative_under("/r", "/r/a/b") == "a/b"
    assert relative_under("/r", "/r") is None
    assert relative_under("/r", "/rr/a") is None
    assert relative_under("/r/", "/r/./a//b/") == "a/b"


# --- the registry stores relative paths; a root mounted elsewhere serves the same adapter --------------------------
def _adapter(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text(json.dumps({"r": 2}))
    return folder


def _app(settings: Settings) -> Any:
    app = build_app(settings)
    app.upgrade_database()
    return app


def test_registry_stores_the_adapter_relative_and_another_mount_serves_the_same_one(
    tmp_path: Path, database_url: str
) -> None:
    first_root = tmp_path / "mount-a"
    first = _app(make_settings(tmp_path, database_url=database_url, artifact_root=first_root))
    folder = _adapter(first_root / "adapters" / "v1")
    run_id = training_runs.start_run(first, base_model="b", hyperparameters={})
    registry.record_candidate(first, version="v1", adapter_path=folder, base_model="b", data_hash="h", run_id=run_id)
    assert get_model(first, "v1").adapter_path == "adapters/v1"
    registry.promote_version(first, "v1", by="test")
    assert production_adapter(first) == AdapterRef("v1", folder)

    # Another replica mounts the same volume elsewhere: copy the tree, point new settings at the copy.
    second_root = tmp_path / "mount-b"
    shutil.copytree(first_root, second_root)
    shutil.rmtree(first_root)
    second = build_app(make_settings(tmp_path / "replica", database_url=database_url, artifact_root=second_root))
    adapter = production_adapter(second)
    assert adapter == AdapterRef("v1", second_root / "adapters" / "v1")
    assert adapter is not None and (adapter.path / "adapter_config.json").is_file()
    from finetune.bundle import production_bundle

    assert production_bundle(second).adapter == adapter
    first.engine.dispose()
    second.engine.dispose()


def test_registry_refuses_an_adapter_outside_the_root_and_records_nothing(tmp_path: Path, sqlite_url: str) -> None:
    app = _app(make_settings(tmp_path, database_url=sqlite_url, artifact_root=tmp_path / "root"))
    outside = _adapter(tmp_path / "elsewhere" / "v1")
    run_id = training_runs.start_run(app, base_model="b", hyperparameters={})
    with pytest.raises(ArtifactPathError, match="not inside the artifact root"):
        registry.record_candidate(app, version="v1", adapter_path=outside, base_model="b", data_hash="h", run_id=run_id)
    assert list_models(app) == []
    app.engine.dispose()


def test_promotion_refuses_a_missing_adapter_at_the_resolved_place(tmp_path: Path, sqlite_url: str) -> None:
    root = tmp_path / "root"
    app = _app(make_settings(tmp_path, database_url=sqlite_url, artifact_root=root))
    folder = _adapter(root / "adapters" / "v1")
    run_id = training_runs.start_run(app, base_model="b", hyperparameters={})
    registry.record_candidate(app, version="v1", adapter_path=folder, base_model="b", data_hash="h", run_id=run_id)
    moved = build_app(make_settings(tmp_path, database_url=sqlite_url, artifact_root=tmp_path / "empty-mount"))
    with pytest.raises(RegistryError, match=r"adapter folder .*empty-mount/adapters/v1 is missing"):
        registry.promote_version(moved, "v1", by="test")
    app.engine.dispose()


def test_an_absolute_adapter_path_of_an_older_row_is_still_served(tmp_path: Path, sqlite_url: str) -> None:
    from chatbot.db.models import ModelStatus, ModelVersion

    app = _app(make_settings(tmp_path, database_url=sqlite_url))
    folder = _adapter(tmp_path / "old-place" / "v0")
    with app.session() as session:
        session.add(ModelVersion(version="v0", adapter_path=str(folder), base_model="b", status=ModelStatus.production))
        session.commit()
    assert production_adapter(app) == AdapterRef("v0", folder)
    app.engine.dispose()


# --- migration 0007 ---------------------------------------------------------------------------------------------
def _uuid_value(engine: Any, value: uuid.UUID) -> str:
    return value.hex if engine.dialect.name == "sqlite" else str(value)


def _insert_version(engine: Any, version: str, adapter_path: str | None, output_dir: str | None) -> None:
    run = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO training_run (id, status, base_model, output_dir, data_hash, n_train, n_val, "
                "hyperparameters, metrics, source_turn_ids, started_at) VALUES (:id, 'succeeded', 'b', :out, 'h', 1, "
                "0, '{}', '{}', '[]', CURRENT_TIMESTAMP)"
            ),
            {"id": _uuid_value(engine, run), "out": output_dir},
        )
        conn.execute(
            text(
                "INSERT INTO model_version (id, version, adapter_path, base_model, training_data_hash, "
                "training_run_id, index_snapshot, risk, eval_metrics, status, created_at) VALUES (:id, :v, :path, "
                "'b', 'h', :run, 0, '{}', '{}', 'retired', CURRENT_TIMESTAMP)"
            ),
            {
                "id": _uuid_value(engine, uuid.uuid4()),
                "v": version,
                "path": adapter_path,
                "run": _uuid_value(engine, run),
            },
        )


def _paths(engine: Any) -> dict[str, tuple[str | None, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT m.version, m.adapter_path, r.output_dir FROM model_version m "
                "JOIN training_run r ON r.id = m.training_run_id"
            )
        ).all()
    return {version: (path, out) for version, path, out in rows}


def test_migration_0007_makes_paths_under_the_root_relative_and_downgrade_makes_them_absolute(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "artifacts"
    monkeypatch.setenv("BANKBOT_ARTIFACT_ROOT", str(root))  # what `bankbot db upgrade` reads
    monkeypatch.chdir(tmp_path)
    engine = make_engine(database_url)
    upgrade(engine, "0006")
    _insert_version(engine, "under", f"{root}/adapters/under", f"{root}/adapters/under")
    _insert_version(engine, "outside", "/other/host/adapters/outside", None)
    _insert_version(engine, "cwd-relative", "artifacts/adapters/cwd-relative", "elsewhere/out")
    _insert_version(engine, "base", None, None)
    upgrade(engine, "0007")
    assert current_revision(engine) == "0007"
    assert _paths(engine) == {
        "under": ("adapters/under", "adapters/under"),
        "outside": ("/other/host/adapters/outside", None),
        "cwd-relative": ("adapters/cwd-relative", f"{tmp_path}/elsewhere/out"),
        "base": (None, None),
    }
    assert "embedder_version" in inspect(engine).get_table_names()
    indexes = {i["name"] for i in inspect(engine).get_indexes("embedder_version")}
    assert {"uq_embedder_version_one_production", "ix_embedder_version_version"} <= indexes

    downgrade(engine, "0006")
    assert "embedder_version" not in inspect(engine).get_table_names()
    assert _paths(engine) == {
        "under": (f"{root}/adapters/under", f"{root}/adapters/under"),
        "outside": ("/other/host/adapters/outside", None),
        "cwd-relative": (f"{root}/adapters/cwd-relative", f"{tmp_path}/elsewhere/out"),
        "base": (None, None),
    }
    upgrade(engine)  # and up again: nothing left behind blocks a re-run
    assert _paths(engine)["under"] == ("adapters/under", "adapters/under")
    engine.dispose()


def test_the_database_allows_one_production_embedder(migrated_engine: Any) -> None:
    from chatbot.db.models import EmbedderStatus, EmbedderVersion

    with Session(migrated_engine) as session:
        session.add(EmbedderVersion(version="e1", path="embedders/e1", status=EmbedderStatus.production))
        session.add(EmbedderVersion(version="e0", path="embedders/e0", status=EmbedderStatus.retired))
        session.add(EmbedderVersion(version="e00", path="embedders/e00", status=EmbedderStatus.retired))
        session.commit()
    with Session(migrated_engine) as session, pytest.raises(IntegrityError):
        session.add(EmbedderVersion(version="e2", path="embedders/e2", status=EmbedderStatus.production))
        session.commit()
