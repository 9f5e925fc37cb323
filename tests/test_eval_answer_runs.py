"""Answer evals with the fake LLM over part of the demo KB: runs, model comparison, calibration from reviews."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from chatbot.app import build_app
from evals import scoring
from evals.dataset import (
    DEMO_EVAL_PATH,
    load_eval_set,
)
from evals.judge import REASONS
from tests.conftest import make_settings

# Part of the demo KB and the demo eval questions about it (plus some out-of-scope questions and probes).
KB_SUBSET = ["activate_my_card", "card_arrival", "change_pin", "exchange_rate", "lost_or_stolen_card"]
N_OUT_OF_SCOPE = 5
N_PROBES = 5


# --- the fake LLM over part of the demo KB ---------------------------------------------------------------------------
def write_mini_eval_set(path: Path) -> Path:
    rows = [json.loads(line) for line in DEMO_EVAL_PATH.read_text(encoding="utf-8").splitlines()]
    kept = [r for r in rows if r["expected_article"] in KB_SUBSET]
    kept += [r for r in rows if r["kind"] == "out_of_scope"][:N_OUT_OF_SCOPE]
    kept += [r for r in rows if r["kind"] == "probe"][:N_PROBES]
    path.write_text("".join(json.dumps(r) + "\n" for r in kept), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def mini_kb(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Path:
    """A Chroma folder with KB_SUBSET ingested and the matching eval set beside it (built once per module)."""
    from retrieval.ingest import ingest
    from retrieval.kb import demo_kb_dir

    root = tmp_path_factory.mktemp("mini_kb")
    app = build_app(make_settings(root), embedder=embedder)
    report = ingest(app.settings, app.vector_store, [demo_kb_dir() / f"{a}.md" for a in KB_SUBSET], progress=False)
    assert report.added == len(KB_SUBSET)
    write_mini_eval_set(root / "mini_eval.jsonl")
    return root


def copy_kb(mini_kb: Path, tmp_path: Path) -> Path:
    """A private copy of the ingested Chroma folder, so tests can run in any order (or in parallel)."""
    target = tmp_path / "chroma"
    shutil.copytree(mini_kb / "data" / "chroma", target)
    return target


def mini_app(mini_kb: Path, tmp_path: Path, embedder: Any, database_url: str | None = None) -> Any:
    settings = make_settings(tmp_path, chroma_path=copy_kb(mini_kb, tmp_path), database_url=database_url)
    app = build_app(settings, embedder=embedder)
    app.upgrade_database()
    return app


def test_run_answers_and_calibration_with_the_fake_llm(tmp_path: Path, mini_kb: Path, embedder: Any) -> None:
    from evals.suites import run_answers, run_calibration

    app = mini_app(mini_kb, tmp_path, embedder)
    items = load_eval_set(mini_kb / "mini_eval.jsonl")
    result = run_answers(app, items, batch_size=4, progress=False)
    assert [r["id"] for r in result.per_item] == [i.id for i in items]
    assert set(scoring.ANSWER_KEYS) <= set(result.metrics)
    assert all(0.0 <= result.metrics[k] <= 1.0 for k in scoring.ANSWER_KEYS if k != "bleu")
    # Every record agrees with a fresh pipeline answer to the same question (nothing is mixed up in batching).
    probe = next(r for r in result.per_item if r["kind"] == "probe")
    fresh = app.pipeline.answer_batch([probe["question"]], log=False)[0]
    assert (probe["abstained"], probe["answer"]) == (fresh.abstained, fresh.answer)
    # The fake model copies a sentence of passage [1], so its answers are grounded in the retrieved context.
    assert result.metrics["groundedness"] > 0.8
    judged = [r for r in result.per_item if r["kind"] == "in_scope"]
    assert {r["reason"] for r in judged} <= set(REASONS) and all(isinstance(r["right"], bool) for r in judged)
    assert result.metrics["answer_accuracy"] == sum(r["right"] for r in judged) / len(judged)
    calib = run_calibration(result.per_item)
    assert set(scoring.CALIBRATION_KEYS) <= set(calib.metrics)
    assert calib.metrics["n"] == len(items)
    assert calib.fit is not None and calib.fit.method in {"platt", "isotonic", "temperature"}


def test_compare_identical_models_has_zero_deltas(tmp_path: Path, mini_kb: Path, embedder: Any) -> None:
    """base vs an adapter version that the fake LLM ignores: same answers, so every delta and CI is exactly 0."""
    from chatbot.db.models import Calibration, EvalRun, ModelVersion
    from evals.runner import EvalRequest, run_evals
    from finetune.eval_bundles import RegistryBundles

    app = mini_app(mini_kb, tmp_path, embedder)
    adapter_dir = tmp_path / "adapter-v1"
    adapter_dir.mkdir()
    with app.session() as session:
        session.add(ModelVersion(version="v1", adapter_path=str(adapter_dir), base_model="fake"))
        session.commit()
    request = EvalRequest(
        suite="all",
        dataset=mini_kb / "mini_eval.jsonl",
        models=["base", "v1"],
        report_dir=tmp_path / "report",
        progress=False,
        bootstrap=50,
        limit=12,
    )
    outcome = run_evals(app.settings, request, app=app, bundles=RegistryBundles())
    comparison = outcome.payload["comparison"]
    assert comparison["answers.rouge_l"]["delta"] == 0.0
    assert (comparison["answers.rouge_l"]["ci_low"], comparison["answers.rouge_l"]["ci_high"]) == (0.0, 0.0)
    assert comparison["calibration.ece"]["delta"] == 0.0
    assert set(outcome.payload["models"]) == {"base", "v1"}
    assert (tmp_path / "report" / "comparison.png").is_file()
    with app.session() as session:
        runs = session.exec(select(EvalRun)).all()
        # one row per model and suite; no calibration is stored from a comparison of non-served models
        assert sorted((r.model_label, r.suite) for r in runs) == [
            (m, s) for m in ("base", "v1") for s in ("answers", "calibration", "retrieval")
        ]
        assert session.exec(select(Calibration)).all() == []


def test_calibration_from_reviews_uses_logged_confidence(tmp_path: Path, sqlite_url: str) -> None:
    from chatbot import review_store
    from chatbot.db import crud
    from chatbot.db.models import ReviewCreate, TurnCreate, UserCreate
    from evals.dataset import load_review_items
    from evals.suites import review_records, run_calibration

    app = build_app(make_settings(tmp_path, database_url=sqlite_url))
    app.upgrade_database()
    verdicts = ["approve", "correct", "reject", "kb_gap"] * 6
    with app.session() as session:
        users = [
            crud.create_user(
                session=session, user_create=UserCreate(username=f"r{i}", role="reviewer", password="password123")
            )
            for i in range(2)
        ]
        for n, verdict in enumerate(verdicts):
            turn = crud.create_turn(
                session=session,
                turn_create=TurnCreate(
                    question=f"question {n}",
                    answer=f"answer {n}",
                    confidence=0.9 if verdict == "approve" else 0.2,
                    confidence_components={"top_score": 0.5},
                    meta={"expected_article": "card_arrival"},
                ),
            )
            for user in users:
                corrected = "the right answer" if verdict == "correct" else None
                review_store.add_review(
                    session=session,
                    required=2,
                    review_create=ReviewCreate(
                        turn_id=turn.id, reviewer_id=user.id, verdict=verdict, corrected_answer=corrected
                    ),
                )
    items = load_review_items(app)
    by_verdict = {i.meta["verdict"]: i for i in items}
    assert (by_verdict["approve"].label, by_verdict["approve"].reference_answer) == (True, "answer 0")
    assert (by_verdict["correct"].label, by_verdict["correct"].reference_answer) == (False, "the right answer")
    assert (by_verdict["reject"].label, by_verdict["reject"].reference_answer) == (False, "")
    assert (by_verdict["kb_gap"].kind, by_verdict["kb_gap"].label) == ("out_of_scope", False)
    result = run_calibration(review_records(items), source="reviews")
    # approved turns logged 0.9, the others 0.2: Brier = (6*0.01 + 18*0.04) / 24, perfect ranking
    assert result.metrics["brier"] == pytest.approx((6 * 0.01 + 18 * 0.04) / 24)
    assert result.metrics["auroc"] == 1.0


def test_storing_a_calibration_deactivates_older_ones(tmp_path: Path, database_url: str) -> None:
    from chatbot.confidence import read_active_calibration
    from chatbot.db.models import Calibration
    from evals.calibration import FittedCalibration, store_calibration

    app = build_app(make_settings(tmp_path, database_url=database_url))
    app.upgrade_database()
    store_calibration(app, FittedCalibration("platt", {"a": 2.0, "b": -1.0}), eval_run_id=None)
    newest = store_calibration(app, FittedCalibration("isotonic", {"x": [0.0, 1.0], "y": [0.2, 0.8]}), eval_run_id=None)
    with app.session() as session:
        rows = session.exec(select(Calibration)).all()
        assert sorted((r.method, r.active) for r in rows) == [("isotonic", True), ("platt", False)]
        active = read_active_calibration(session)  # what the chat pipeline will use
    assert (active.method, dict(active.params)) == ("isotonic", {"x": [0.0, 1.0], "y": [0.2, 0.8]})
    assert newest == next(r.id for r in rows if r.active)
