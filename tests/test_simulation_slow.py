"""The whole simulation in --quick mode with the real SmolLM2: customers, thumbs, reviews, nightly LoRA, held-out
evaluation and the report, end to end. Questions are made up here from the demo KB's article titles."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from tests.conftest import MODEL_CACHE

pytestmark = pytest.mark.slow


def write_questions(path: Path) -> None:
    from retrieval.kb import load_articles

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "category"])
        for article in load_articles():
            topic = article.title.lower()
            for template in ("{t}?", "can you help me with {t}", "I have a question about {t}"):
                writer.writerow([template.format(t=topic), article.intent])


def test_quick_simulation_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlmodel import Session, create_engine, select

    from chatbot.cli import main
    from chatbot.db.models import TrainingRun, Turn

    monkeypatch.setenv("BANKBOT_MODEL_CACHE_DIR", str(MODEL_CACHE))
    questions = tmp_path / "questions.csv"
    write_questions(questions)
    out = tmp_path / "sim"
    assert main(["simulate", "--questions", str(questions), "--quick", "--out", str(out)]) == 0

    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["arms"]) == {"confidence", "random"}
    for metric in ("retrieval_accuracy_at_1", "coverage", "wrong_shown_rate", "rouge_l", "ece"):
        assert math.isfinite(summary["round0"][metric])
    for arm in ("confidence", "random"):
        (entry,) = summary["arms"][arm]["rounds"]
        assert entry["customers"]["asked"] == summary["config"]["per_round"]
        assert entry["customers"]["shared_with_first_arm"] is (arm == "random")  # round 1 is asked once
        assert entry["reviews"]["turns_reviewed"] == summary["config"]["review_budget"]
        assert entry["nightly"]["decision"] in {"promoted", "rejected"}
        assert set(entry["timing"]) == {"customers_s", "reviews_s", "nightly_s", "heldout_s"}
        rows = summary["metrics"][arm]
        assert [r["round"] for r in rows] == [0, 1]
        assert rows[1]["reviewed_total"] == summary["config"]["review_budget"]
        answers = json.loads((out / "rounds" / f"{arm}-round-1.json").read_text())["answers"]
        assert {a["answer_kind"] for a in answers} <= {"generated", "passage", "handoff", "refusal"}
    assert (out / "report.md").read_text().startswith("# Feedback-loop simulation")
    assert (out / "metrics.png").stat().st_size > 0

    # Held-out questions are never logged: the only turns are the customers' questions.
    heldout = {r["question"] for r in json.loads((out / "rounds" / "start-round-0.json").read_text())["answers"]}
    engine = create_engine(f"sqlite:///{out / 'confidence' / 'data' / 'bankbot.db'}")
    with Session(engine) as session:
        logged = {t.question for t in session.exec(select(Turn)).all()}
        runs = session.exec(select(TrainingRun)).all()
    engine.dispose()
    assert len(logged) == summary["config"]["per_round"]
    assert not logged & heldout
    assert [r.status for r in runs] == ["succeeded"]
