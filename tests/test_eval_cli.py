"""`bankbot eval` end to end: JSON keys, report folder, stored runs and calibration, CI gates, clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from chatbot.app import build_app
from chatbot.cli import main
from chatbot.settings import Settings
from evals.scoring import ANSWER_KEYS, CALIBRATION_KEYS
from tests import test_eval_answer_runs as shared
from tests.conftest import MODEL_CACHE
from tests.test_eval_answer_runs import copy_kb

mini_kb = shared.mini_kb  # the module fixture (part of the demo KB ingested), found by pytest under this name

RETRIEVAL_KEYS = ("accuracy_at_1", "recall_at_5", "mrr")


def use_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, chroma: Path | None, llm: str = "fake") -> None:
    monkeypatch.setenv("BANKBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BANKBOT_LLM_MODEL", llm)
    monkeypatch.setenv("BANKBOT_MODEL_CACHE_DIR", str(MODEL_CACHE))
    if chroma is not None:
        monkeypatch.setenv("BANKBOT_CHROMA_PATH", str(chroma))


def test_eval_all_prints_every_key_writes_the_report_and_gates(
    tmp_path: Path, mini_kb: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from chatbot.db.models import Calibration, EvalRun

    use_data_dir(monkeypatch, tmp_path, copy_kb(mini_kb, tmp_path))
    report = tmp_path / "report"
    code = main(
        [
            "eval",
            "all",
            "--data",
            str(mini_kb / "mini_eval.jsonl"),
            "--json",
            "-",
            "--report",
            str(report),
            "--fail-under",
            "answers.probe_refusal_rate=0.0",  # passes: a rate is never below 0
            "--fail-under",
            "citation_accuracy=1.01",  # fails: no accuracy is above 1
            "--fail-over",
            "calibration.ece=1.0",  # passes
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1
    payload = json.loads(out)
    for suite, keys in (("answers", ANSWER_KEYS), ("calibration", CALIBRATION_KEYS), ("retrieval", RETRIEVAL_KEYS)):
        assert all(isinstance(payload[suite][k], float) for k in keys), (suite, payload[suite])
    assert payload["run"]["questions"] == 25
    assert "gate ok   answers.probe_refusal_rate" in err
    assert "gate FAIL answers.citation_accuracy" in err and "< 1.01" in err
    assert "gate ok   calibration.ece" in err
    for name in (
        "answers.png",
        "reliability.png",
        "risk_coverage.png",
        "confidence_hist.png",
        "retrieval.png",
        "report.md",
        "report.html",
        "metrics.json",
        "per_item_base.jsonl",
    ):
        assert (report / name).is_file(), name
    assert "| citation_accuracy |" in (report / "report.md").read_text()
    assert json.loads((report / "metrics.json").read_text())["answers"] == payload["answers"]
    app = build_app(Settings())
    with app.session() as session:
        runs = {r.suite: r for r in session.exec(select(EvalRun)).all()}
        calibrations = session.exec(select(Calibration)).all()
    assert set(runs) == {"answers", "calibration", "retrieval"}
    assert runs["answers"].metrics["citation_accuracy"] == payload["answers"]["citation_accuracy"]
    # The fit beats the uncalibrated score on held-out folds here, so it became the chat's active calibration.
    assert payload["calibration"]["fit_improves"] is True
    assert [(c.active, c.eval_run_id) for c in calibrations] == [(True, runs["calibration"].id)]
    assert payload["run"]["calibration_stored"]["method"] == calibrations[0].method


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fail-under", "answers.bleu=high"], "'high' is not a number"),
        (["--fail-under", "calibration.brier=0.2"], "use --fail-over calibration.brier=0.2"),
        (["--limit", "0"], "--limit must be at least 1"),
    ],
)
def test_bad_options_fail_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    use_data_dir(monkeypatch, tmp_path, None)
    assert main(["eval", "answers", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bankbot eval: error:") and message in err and "\n" not in err


def test_unknown_model_version_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_data_dir(monkeypatch, tmp_path, None)
    assert main(["eval", "answers", "--model", "base", "--model", "v9"]) == 2
    assert "--model v9: no such adapter version (use 'base' or one of: none yet)" in capsys.readouterr().err


def test_from_reviews_without_reviews_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_data_dir(monkeypatch, tmp_path, None)
    assert main(["eval", "calibration", "--from-reviews"]) == 2
    assert "no agreed reviews in the database yet" in capsys.readouterr().err


@pytest.mark.slow
def test_eval_answers_with_the_real_model(
    tmp_path: Path, mini_kb: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from chatbot.settings import BUILTIN_LLM

    use_data_dir(monkeypatch, tmp_path, copy_kb(mini_kb, tmp_path), llm=BUILTIN_LLM)
    code = main(
        [
            "eval",
            "answers",
            "--data",
            str(mini_kb / "mini_eval.jsonl"),
            "--limit",
            "6",
            "--json",
            "-",
            "--report",
            str(tmp_path / "report"),
        ]
    )
    payload: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert code == 0
    assert payload["run"]["llm"] == BUILTIN_LLM and payload["run"]["questions"] == 6
    assert all(k in payload["answers"] for k in ANSWER_KEYS)
    assert (tmp_path / "report" / "answers.png").is_file()
