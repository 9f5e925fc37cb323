"""The nightly job end to end on a tiny random Llama (SmolLM2's tokenizer and chat template, 2 layers of width 32):
skip on too little data, the lock, lineage and gate records, and a crash mid-training leaving production alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chatbot import registry
from chatbot.app import build_app
from chatbot.cli import main
from chatbot.db.models import ModelVersion, TrainingRun
from finetune import training_runs
from finetune.lora import LoraHyperparameters
from finetune.nightly import NightlyAlreadyRunning, NightlyOptions, nightly_lock, run_nightly
from tests.conftest import make_settings
from tests.nightly_support import QUESTIONS, fake_production, make_tiny_model, reviewed_turn, reviewers

FAST = LoraHyperparameters(max_steps=3, eval_steps=2, batch_size=2, max_seq_length=192, prompt_budget=128)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model(tmp_path_factory)


def nightly_app(tmp_path: Path, tiny_model: Path, embedder: Any, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "llm_model": str(tiny_model),
        "max_new_tokens": 8,
        "gate_eval_questions": 3,
        "min_new_examples": 3,
        "few_shot_k": 0,
        **overrides,
    }
    app = build_app(make_settings(tmp_path, **values), embedder=embedder)
    app.upgrade_database()
    return app


def seed(app: Any, rows: list[tuple[str, str, str, str | None]] = QUESTIONS) -> list[str]:
    ids = reviewers(app, 2)
    return [str(reviewed_turn(app, q, a, verdict, correction=fix, reviewer_ids=ids)) for q, a, verdict, fix in rows]


def runs(app: Any) -> list[Any]:
    return list(training_runs.list_runs(app))


def test_too_little_new_data_is_skipped_with_a_message_and_exit_zero(
    tmp_path: Path, tiny_model: Path, embedder: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    app = nightly_app(tmp_path, tiny_model, embedder, min_new_examples=20)
    seed(app, QUESTIONS[:2])
    monkeypatch.setenv("BANKBOT_DATA_DIR", str(app.settings.data_dir))
    monkeypatch.setenv("BANKBOT_LLM_MODEL", str(tiny_model))
    monkeypatch.setenv("BANKBOT_MIN_NEW_EXAMPLES", "20")
    assert main(["nightly"]) == 0
    assert "skipped: 2 new reviewed example(s)" in capsys.readouterr().out
    assert [r.status for r in runs(app)] == ["skipped"]
    assert registry.list_models(app) == []


def test_a_second_run_while_the_lock_is_held_refuses_at_once(tmp_path: Path, tiny_model: Path, embedder: Any) -> None:
    app = nightly_app(tmp_path, tiny_model, embedder)
    with nightly_lock(app.settings), pytest.raises(NightlyAlreadyRunning, match="another nightly run holds"):
        run_nightly(app, NightlyOptions(hyperparameters=FAST))
    assert runs(app) == []


def test_nightly_trains_gates_and_records_lineage_then_rejects_a_candidate_that_does_not_beat_production(
    tmp_path: Path, tiny_model: Path, embedder: Any
) -> None:
    app = nightly_app(tmp_path, tiny_model, embedder, promotion_margin=-1.0)
    turn_ids = seed(app)
    result = run_nightly(app, NightlyOptions(hyperparameters=FAST))
    assert result.status == "promoted", result.message
    assert registry.production_version(app) == result.version

    assert result.version is not None and result.dataset_dir is not None
    model = registry.get_model(app, result.version)
    manifest = json.loads((Path(result.dataset_dir) / "manifest.json").read_text())
    assert model.training_data_hash == manifest["content_hash"]
    assert sorted(manifest["source_turn_ids"]) == sorted(turn_ids)
    assert set(model.eval_metrics) >= {"candidate", "production", "regressions", "training"}
    assert model.eval_metrics["corrected_questions"] == 1 and model.eval_metrics["gate_questions"] == 3
    assert "corrections.rouge_l" in model.eval_metrics["candidate"]
    with app.session() as session:
        run = session.get(TrainingRun, model.training_run_id)
        assert run is not None and run.status == "succeeded"
        assert sorted(run.source_turn_ids) == sorted(turn_ids) and run.data_hash == model.training_data_hash

    assert model.adapter_path == f"adapters/{result.version}"  # relative to the artifact root
    folder = registry.adapter_dir(app.settings, model)
    assert folder is not None and folder == app.settings.effective_artifact_root / "adapters" / result.version
    for name in ("adapter_config.json", "hyperparameters.json", "training.json", "prompt.json", "train_log.jsonl"):
        assert (folder / name).is_file(), name
    described = json.loads((folder / "training.json").read_text())
    assert described["data_hash"] == model.training_data_hash and described["prompt_version"]
    assert described["metrics"]["steps"] == 3
    assert json.loads((folder / "hyperparameters.json").read_text())["max_steps"] == 3
    # The bundle: its lineage, its own index snapshot holding every learned example, its calibration.
    assert registry.get_lineage(app, result.version)["example"] == sorted(turn_ids)
    # An adapter's calibration is fitted on adapted answers only, and the base model wrote all of these.
    assert registry.get_lineage(app, result.version).get("calibration", []) == []
    fit = model.eval_metrics["calibration_fit"]
    assert (model.index_snapshot, fit["reviewed"], fit["adapted_only"], fit["method"]) == (1, 0, True, "none")
    served = build_app(app.settings, embedder=embedder)  # a new process: reads the production bundle
    assert (served.fewshot.snapshot, served.fewshot.count_visible()) == (1, len(turn_ids))
    before = observe(served)

    # One more reviewed question, then a margin nothing can meet: trained, gated, rejected; production and
    # everything it serves stay exactly as they were.
    seed(app, [("How do I freeze my card?", "Tap Freeze on the card [1].", "approve", None)])
    app.settings.promotion_margin = 5.0
    second = run_nightly(app, NightlyOptions(hyperparameters=FAST, force=True))
    assert second.status == "rejected" and "< margin 5.0" in second.message
    assert registry.production_version(app) == result.version
    rejected = registry.get_model(app, str(second.version))
    assert (rejected.status, rejected.index_snapshot) == ("rejected", 2)
    assert observe(build_app(app.settings, embedder=embedder)) == before
    assert "How do I freeze my card?" in [h.question for h in served.example_index.at(2).search(FREEZE, 3)]


FREEZE = "freeze my card"


def observe(bot: Any) -> tuple[list[dict[str, str]], list[tuple[str, str]]]:
    """What the chat reads for a question: the few-shot examples it selects and the example questions it finds."""
    return bot.fewshot.select(FREEZE, 3), [(h.question, h.article_id) for h in bot.example_index.search(FREEZE, 10)]


def test_new_data_threshold_counts_only_turns_not_in_the_last_training(
    tmp_path: Path, tiny_model: Path, embedder: Any
) -> None:
    app = nightly_app(tmp_path, tiny_model, embedder, promotion_margin=-1.0)
    seed(app)
    assert run_nightly(app, NightlyOptions(hyperparameters=FAST, update_indexes=False)).status == "promoted"
    again = run_nightly(app, NightlyOptions(hyperparameters=FAST, update_indexes=False))
    assert again.status == "skipped" and "0 new reviewed example(s)" in again.message


class _Crash(RuntimeError):
    pass


def crash_at_step(step: int) -> Any:
    from transformers import TrainerCallback

    class Crash(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if state.global_step >= step:
                raise _Crash(f"injected crash at step {state.global_step}")

    return Crash()


def test_a_crash_mid_training_leaves_production_untouched_and_the_run_failed(
    tmp_path: Path, tiny_model: Path, embedder: Any
) -> None:
    app = nightly_app(tmp_path, tiny_model, embedder, promotion_margin=-1.0)
    fake_production(app, tmp_path, tiny_model)
    seed(app)
    options = NightlyOptions(
        hyperparameters=LoraHyperparameters(max_steps=20, batch_size=2), callbacks=[crash_at_step(2)]
    )
    with pytest.raises(_Crash):
        run_nightly(app, options)
    assert registry.production_version(app) == "prod-0"
    latest = runs(app)[0]
    assert latest.status == "failed" and "injected crash at step 2" in (latest.message or "")
    assert [m.version for m in registry.list_models(app)] == ["prod-0"]  # no candidate recorded
    assert list((app.settings.data_dir / "adapters").iterdir()) == []  # temp folder removed, nothing renamed in
    # The next run starts cleanly.
    assert run_nightly(app, NightlyOptions(hyperparameters=FAST)).status == "promoted"
    with app.session() as session:
        from sqlmodel import select

        assert len(session.exec(select(ModelVersion)).all()) == 2


def test_force_without_any_learnable_example_still_skips(tmp_path: Path, tiny_model: Path, embedder: Any) -> None:
    app = nightly_app(tmp_path, tiny_model, embedder)
    ids = reviewers(app, 2)
    reviewed_turn(app, "Is this rejected?", "nonsense", "reject", reviewer_ids=ids)
    result = run_nightly(app, NightlyOptions(hyperparameters=FAST, force=True))
    assert result.status == "skipped" and "no learnable reviewed examples" in result.message
    assert [r.status for r in runs(app)] == ["skipped"]
