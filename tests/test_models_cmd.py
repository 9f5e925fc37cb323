"""`bankbot models list|show|promote|rollback|runs` and the registry behind them, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from chatbot.app import build_app
from chatbot.cli import main
from chatbot.registry import list_models, production_version
from finetune import registry, training_runs
from tests.conftest import make_settings


@pytest.fixture
def app(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    # The CLI builds its own app from the environment: point it at the same data dir and database.
    monkeypatch.setenv("BANKBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BANKBOT_DATABASE_URL", database_url)
    monkeypatch.setenv("BANKBOT_LLM_MODEL", "fake")
    app = build_app(make_settings(tmp_path, database_url=database_url))
    app.upgrade_database()
    return app


def add_version(app: Any, tmp_path: Path, version: str, *, complete: bool = True) -> Path:
    folder = app.settings.effective_artifact_root / "adapters" / version  # registered adapters live under the root
    folder.mkdir(parents=True)
    if complete:
        (folder / "adapter_config.json").write_text("{}")
        (folder / "hyperparameters.json").write_text(json.dumps({"r": 8}))
    registry.record_candidate(
        app, version=version, adapter_path=folder, base_model="base", data_hash="abc123", run_id=_run(app)
    )
    return folder


def _run(app: Any) -> uuid.UUID:
    return training_runs.start_run(app, base_model="base", hyperparameters={})


def statuses(app: Any) -> dict[str, str]:
    return {m.version: m.status for m in list_models(app)}


def test_promote_retires_the_old_production_and_rollback_goes_back_step_by_step(
    app: Any, tmp_path: Path, capsys: Any
) -> None:
    for v in ("v1", "v2", "v3"):
        add_version(app, tmp_path, v)
    assert production_version(app) is None
    assert main(["models", "promote", "v1"]) == 0
    assert main(["models", "promote", "v2"]) == 0
    assert main(["models", "promote", "v3"]) == 0
    assert statuses(app) == {"v1": "retired", "v2": "retired", "v3": "production"}
    assert production_version(app) == "v3"
    assert main(["models", "rollback"]) == 0
    assert "rolled back v3; production is now v2" in capsys.readouterr().out
    assert statuses(app) == {"v1": "retired", "v2": "production", "v3": "retired"}
    assert main(["models", "rollback"]) == 0  # not back to v3 (rolled back), but further: v1
    assert statuses(app) == {"v1": "production", "v2": "retired", "v3": "retired"}
    assert main(["models", "rollback"]) == 0
    assert production_version(app) is None  # the base model serves
    assert main(["models", "rollback"]) == 2
    assert "nothing to roll back" in capsys.readouterr().err


def test_promote_refuses_unknown_and_incomplete_versions(app: Any, tmp_path: Path, capsys: Any) -> None:
    add_version(app, tmp_path, "half", complete=False)
    assert main(["models", "promote", "nope"]) == 2
    assert "no model version 'nope'" in capsys.readouterr().err
    assert main(["models", "promote", "half"]) == 2
    assert "missing or incomplete" in capsys.readouterr().err
    assert production_version(app) is None


def test_list_and_show_print_status_lineage_and_adapter_files(app: Any, tmp_path: Path, capsys: Any) -> None:
    add_version(app, tmp_path, "v1")
    registry.record_gate(app, "v1", promote=False, decision="gain too small", metrics={"candidate": {"quality": 0.5}})
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "v1\trejected\tquality=0.5000" in out and "\tthreshold=configured\tgain too small" in out
    assert main(["models", "show", "v1"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["training_data_hash"] == "abc123" and shown["status"] == "rejected"
    assert shown["adapter_files"]["hyperparameters.json"] == {"r": 8}
    assert (shown["index_snapshot"], shown["abstain_threshold"], shown["lineage"]) == (0, None, {})
    assert shown["calibration"] == {"method": "none", "params": {}}


def test_show_lists_the_turns_a_bundle_learned_from_and_promote_records_the_threshold_fit(
    app: Any, tmp_path: Path, capsys: Any
) -> None:
    from chatbot.db import crud
    from chatbot.db.models import TurnCreate

    with app.session() as session:
        turns = [
            str(crud.create_turn(session=session, turn_create=TurnCreate(question=q, answer="a")).id) for q in "xy"
        ]
    folder = app.settings.effective_artifact_root / "adapters" / "v1"
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text("{}")
    snapshot = registry.record_candidate(
        app,
        version="v1",
        adapter_path=folder,
        base_model="base",
        data_hash="h",
        run_id=_run(app),
        new_index_snapshot=True,
        lineage=[*turns, str(uuid.uuid4())],  # a turn that does not exist is not listed
    )
    assert snapshot == 1
    assert main(["models", "promote", "v1"]) == 0
    assert "v1 is production" in capsys.readouterr().out
    assert main(["models", "show", "v1"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["lineage"] == {"example": sorted(turns)}  # no reviewed turn yet: the threshold learned from none
    assert (shown["index_snapshot"], shown["abstain_threshold"]) == (1, None)
    assert shown["risk"]["reason"] == "0 reviewed turns, fewer than the 149 a 2.0% target needs"


def test_running_pipeline_sees_a_promotion_through_production_version(app: Any, tmp_path: Path) -> None:
    add_version(app, tmp_path, "v1")
    pipeline = app.pipeline
    assert pipeline.generator.adapter_version is None
    registry.promote_version(app, "v1", by="test")
    # The contract with the chat pipeline: poll production_version, reload() when it differs.
    assert production_version(app) != pipeline.generator.adapter_version
    pipeline.reload()
    assert pipeline.generator.adapter_version == "v1"


def test_stale_running_runs_are_marked_failed(app: Any) -> None:
    run_id = _run(app)
    assert training_runs.fail_stale_runs(app) == [str(run_id)]
    with app.session() as session:
        from chatbot.db.models import TrainingRun

        run = session.get(TrainingRun, run_id)
        assert run is not None and run.status == "failed" and run.finished_at is not None
    assert training_runs.fail_stale_runs(app) == []


def test_runs_lists_the_nights_newest_first_with_why_one_failed(app: Any, tmp_path: Path, capsys: Any) -> None:
    capsys.readouterr()
    assert main(["models", "runs"]) == 0
    assert capsys.readouterr().out.strip() == "no training runs yet; run: bankbot nightly"
    trained = _run(app)
    training_runs.update_run(app, trained, status="succeeded", n_train=12, message="lora-1 promoted: better")
    killed = _run(app)
    training_runs.fail_stale_runs(app)
    assert main(["models", "runs"]) == 0
    lines = [line.split("\t") for line in capsys.readouterr().out.strip().splitlines()]
    assert [cells[1:] for cells in lines] == [
        ["failed", "n_train=0", "process died while running (found by the next nightly run)"],
        ["succeeded", "n_train=12", "lora-1 promoted: better"],
    ]
    assert main(["models", "runs", "--json", "--limit", "1"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["id"], row["status"], row["finished_at"] is not None) == (str(killed), "failed", True)


def test_list_json_shows_each_bundles_public_fields(app: Any, tmp_path: Path, capsys: Any) -> None:
    add_version(app, tmp_path, "v1")
    registry.promote_version(app, "v1", by="test")
    capsys.readouterr()
    assert main(["models", "list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["version"], row["status"], row["promoted_by"], row["embedder_version"]) == (
        "v1",
        "production",
        "test",
        None,
    )
    assert uuid.UUID(row["id"]) and "eval_metrics" not in row


def test_serving_says_which_bundle_and_embedder_serve(app: Any, tmp_path: Path, capsys: Any) -> None:
    capsys.readouterr()
    assert main(["models", "serving"]) == 0
    before = json.loads(capsys.readouterr().out)
    assert (before["version"], before["adapter"], before["embedder_version"]) == (None, None, None)
    add_version(app, tmp_path, "v1")
    assert main(["models", "promote", "v1"]) == 0
    capsys.readouterr()
    assert main(["models", "serving"]) == 0
    after = json.loads(capsys.readouterr().out)
    assert (after["version"], after["embedder_version"]) == ("v1", None)
