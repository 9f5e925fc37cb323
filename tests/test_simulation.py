"""The simulation against a real SQLite database and whole runs with the fake LLM (the nightly job faked); the
CLI. No LLM is loaded; the questions are made up here."""

from __future__ import annotations

import random
import uuid
from pathlib import Path
from typing import Any

import pytest

from chatbot.errors import BankbotError
from evals.simulation import reviewers
from evals.simulation.split import (
    LabelledQuestion,
)
from tests.conftest import make_settings


def questions(counts: dict[str, int]) -> list[LabelledQuestion]:
    return [LabelledQuestion(f"{cat} question {i}", cat) for cat, n in counts.items() for i in range(n)]


# --- the review step on a real database ---------------------------------------------------------------------------
def test_confidence_arm_reviews_top_of_queue_and_corrections_cite_the_article(tmp_path: Path) -> None:
    from chatbot import review_store
    from chatbot.app import build_app
    from chatbot.db import crud
    from chatbot.db.models import Turn, TurnCreate
    from evals.simulation.loop import SimulationConfig
    from evals.simulation.steps import create_reviewers, pick_turns, review_turns

    app = build_app(make_settings(tmp_path))
    app.upgrade_database()
    gold = {"top_up": ("top_up", "alpha beta gamma delta")}
    ids = []
    with app.session() as session:
        for i, (answer, conf) in enumerate(
            [("alpha beta gamma delta [1]", 0.9), ("wrong words here", 0.2), ("alpha beta gamma delta [1]", 0.3)]
        ):
            turn = crud.create_turn(
                session=session,
                turn_create=TurnCreate(
                    question=f"q{i}",
                    answer=answer,
                    confidence=conf,
                    sources=[{"id": "x", "score": 0.7, "text": "t"}],
                    meta={
                        "sim_intent": "top_up",
                        "sim_round": 1,
                        "sim_index": i,
                        "cited": ["top_up"] if i != 1 else ["x"],
                        "answer_kind": "generated",
                    },
                ),
            )
            ids.append(turn.id)
        review_store.set_feedback(session=session, turn_id=ids[0], rating=-1)
    reviewer_ids = create_reviewers(app)
    chosen = pick_turns(app, "confidence", reviewer_id=reviewer_ids[0], budget=2, rng=random.Random(0))
    assert chosen == [ids[0], ids[1]]  # thumbs-down first, then the least confident
    kw: dict[str, Any] = {"round_no": 1, "seed": 1, "disagreement_rate": 0.0, "gold": gold, "threshold": 0.5}
    counts = review_turns(app, chosen, reviewer_ids=reviewer_ids, **kw)
    assert counts == {"turns_reviewed": 2, "approved": 1, "corrected": 1, "disputed": 0, "agreed": 2}
    with app.session() as session:
        approved, corrected = session.get(Turn, ids[0]), session.get(Turn, ids[1])
        assert (approved.review_status, approved.consensus_verdict) == ("agreed", "approve")
        assert corrected.consensus_answer == "alpha beta gamma delta [1]"
        assert (corrected.consensus_verdict, corrected.consensus_article_id) == ("correct", "top_up")
        assert approved.consensus_article_id is None  # an approval keeps the bot's own citation
    # The random arm draws from the open turns only: the one left.
    assert pick_turns(app, "random", reviewer_id=reviewer_ids[0], budget=5, rng=random.Random(0)) == [ids[2]]
    with pytest.raises(BankbotError, match="unknown arm"):
        SimulationConfig(questions=Path("q.csv"), out=tmp_path, arms=("greedy",))
    assert uuid.UUID(str(ids[2]))


def test_reviewers_vote_on_the_model_answer_with_the_question() -> None:
    from types import SimpleNamespace

    from evals.simulation.steps import model_vote

    gold = "Standard delivery takes 5–7 working days."
    sources = [{"id": "card_delivery_estimate"}, {"id": "atm_support"}]

    def turn(answer: str, kind: str, would_be: str | None, question: str = "how long?") -> Any:
        meta = {"answer_kind": kind, "cited": ["card_delivery_estimate"] if kind != "handoff" else []}
        return SimpleNamespace(
            id=uuid.uuid4(), question=question, answer=answer, would_be_answer=would_be, meta=meta, sources=sources
        )

    kw: dict[str, Any] = {"article_id": "card_delivery_estimate", "gold_answer": gold, "threshold": 0.5}
    # the customer got the passage; the model's withheld answer was right: approve (= the bot's answer was right)
    assert model_vote(turn("From the article…", "passage", "5–7 working days [1]."), **kw).verdict == "approve"
    # the passage may have been fine, but the model's answer was wrong: correct it
    assert model_vote(turn("Standard delivery takes 5–7 working days.", "passage", "2 hours [1]."), **kw).verdict == (
        "correct"
    )
    # nothing written (out of scope): correct, with the gold answer citing the article
    vote = model_vote(turn("Let me connect you.", "handoff", None), **kw)
    assert vote == reviewers.Judgement("correct", gold + " [1]")
    # a fact the customer stated is not a made-up fact
    answer = "Within 5–7 working days, and yes, the £4.99 fee applies [1]."
    assert model_vote(turn(answer, "generated", None), **kw).verdict == "correct"
    assert model_vote(turn(answer, "generated", None, question="Is the fee £4.99?"), **kw).verdict == "approve"


SMALL_KB = ("activate_my_card", "card_delivery_estimate", "lost_or_stolen_card", "top_up_failed", "exchange_rate")


def small_kb(monkeypatch: pytest.MonkeyPatch, questions: Path) -> None:
    """Five demo articles (ingesting all eighty takes a minute per arm here) and three questions for each, made up
    from their titles."""
    import csv

    from retrieval.ingest import ingest
    from retrieval.kb import load_articles

    articles = [a for a in load_articles() if a.id in SMALL_KB]
    assert len(articles) == len(SMALL_KB)
    with questions.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "category"])
        for article in articles:
            topic = article.title.lower()
            for template in ("{t}?", "can you help me with {t}", "I have a question about {t}"):
                writer.writerow([template.format(t=topic), article.intent])
    paths = [a.path for a in articles]
    monkeypatch.setattr(
        "evals.simulation.adapters.ingest_demo_kb",
        lambda app: ingest(app.settings, app.vector_store, paths, progress=False),
    )


def fake_nights(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The nightly job faked: the confidence arm's nights promote (what is served changes), the random arm's are
    rejected. Returns the list of held-out evaluations, by arm folder ("start" before any arm's night)."""
    from collections import Counter

    from evals.simulation import loop

    nights: Counter[str] = Counter()
    evaluated: list[str] = []

    def arm_of(app: Any) -> str:
        return str(app.settings.data_dir.parent.name)

    def night(app: Any, **options: Any) -> dict[str, Any]:
        nights[arm_of(app)] += 1
        return {"decision": "promoted" if arm_of(app) == "confidence" else "rejected"}

    real_evaluate = loop.evaluate

    def evaluate(app: Any, plan: Any, config: Any) -> Any:
        evaluated.append(f"{arm_of(app)}:{nights[arm_of(app)]}")
        return real_evaluate(app, plan, config)

    monkeypatch.setattr("evals.simulation.adapters.run_nightly_job", night)
    monkeypatch.setattr(loop, "served_state", lambda app: nights[arm_of(app)] if arm_of(app) == "confidence" else 0)
    monkeypatch.setattr(loop, "evaluate", evaluate)
    return evaluated


def logged_turns(out: Path, arm: str) -> list[tuple[Any, ...]]:
    from sqlmodel import Session, create_engine, select

    from chatbot.db.models import Feedback, Turn

    engine = create_engine(f"sqlite:///{out / arm / 'data' / 'bankbot.db'}")
    with Session(engine) as session:
        ratings = {f.turn_id: f.rating for f in session.exec(select(Feedback)).all()}
        rows = [
            (t.meta["sim_round"], t.meta["sim_index"], t.question, t.answer, ratings.get(t.id), t.review_status)
            for t in session.exec(select(Turn)).all()
        ]
    engine.dispose()
    return sorted(rows, key=lambda r: (r[0], r[1]))


def test_both_arms_see_the_same_customers_and_a_seed_reproduces_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from evals.simulation.loop import SimulationConfig, run_simulation
    from evals.simulation.report import METRICS

    evaluated = fake_nights(monkeypatch)
    questions = tmp_path / "questions.csv"
    small_kb(monkeypatch, questions)  # 15 questions: 5 held out, 10 in the pool
    sizes: dict[str, Any] = {"rounds": 2, "per_round": 5, "review_budget": 3, "answer_subset": 5, "heldout_limit": 5}

    def run(name: str) -> dict[str, Any]:
        config = SimulationConfig(questions=questions, out=tmp_path / name, max_new_tokens=40, seed=5, **sizes)
        run_simulation(config, make_settings(tmp_path / name), progress=lambda line: None)
        return dict(json.loads((tmp_path / name / "summary.json").read_text()))

    first = run("one")
    # Round 0 once for both arms; the random arm's rejected nights left the served bundle as it was, so its
    # rounds reuse the answers of round 0; the confidence arm's promoted nights were evaluated.
    assert evaluated == ["confidence:0", "confidence:1", "confidence:2"]
    assert [e.get("heldout_reused_from_round") for e in first["arms"]["random"]["rounds"]] == [0, 0]
    assert all("heldout_reused_from_round" not in e for e in first["arms"]["confidence"]["rounds"])
    assert first["metrics"]["random"][2]["coverage"] == first["metrics"]["random"][0]["coverage"]
    for arm in ("confidence", "random"):
        rows = first["metrics"][arm]
        assert [r["round"] for r in rows] == [0, 1, 2] and [r["reviewed_total"] for r in rows] == [0, 3, 6]
        assert set(rows[0]) == {"round", "intervals", *(key for key, _ in METRICS)}
        answers = json.loads((tmp_path / "one" / "rounds" / f"{arm}-round-2.json").read_text())["answers"]
        assert len(answers) == 5 and all(a["answer_kind"] in ("generated", "passage", "handoff") for a in answers)
        assert all((a["failure"] == "") == (a["right"] and a["answer_kind"] != "handoff") for a in answers)
    shared = [
        e["customers"]["shared_with_first_arm"]
        for arm in ("confidence", "random")
        for e in first["arms"][arm]["rounds"]
    ]
    assert shared == [False, False, True, False]  # the random arm logged round 1's answers instead of generating them
    # The same customers asked the same questions, got the same answers and clicked the same thumbs in both arms.
    confidence, random_arm = logged_turns(tmp_path / "one", "confidence"), logged_turns(tmp_path / "one", "random")
    assert [r[:5] for r in confidence] == [r[:5] for r in random_arm] and len(confidence) == 10

    evaluated.clear()
    second = run("two")
    assert second["metrics"] == first["metrics"]
    assert logged_turns(tmp_path / "two", "random") == random_arm  # the random arm reviewed the very same turns
    assert sum(r[5] in ("agreed", "disputed") for r in random_arm) == 6


def test_cli_rejects_a_missing_file_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from chatbot.cli import main

    assert main(["simulate", "--questions", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("no such file") and "\n" not in err


def test_cli_nightly_option_needs_key_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from chatbot.cli import main
    from chatbot.commands.simulate_cmd import _value

    questions = tmp_path / "q.csv"
    questions.write_text("text,category\na,b\n", encoding="utf-8")
    argv = ["simulate", "--questions", str(questions), "--out", str(tmp_path / "o"), "--nightly", "max_steps"]
    assert main(argv) == 2
    assert "expected KEY=VALUE" in capsys.readouterr().err
    assert [_value(v) for v in ("3", "0.5", "true", "x")] == [3, 0.5, True, "x"]


def test_cli_quick_and_default_configurations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from chatbot.cli import main
    from evals.simulation import loop

    seen: list[Any] = []

    def capture(config: Any, base: Any) -> dict[str, Any]:
        seen.append(config)
        return {"timing": {"total_s": 60.0}}

    monkeypatch.setattr(loop, "run_simulation", capture)
    questions = tmp_path / "q.csv"
    questions.write_text("text,category\na,b\n", encoding="utf-8")
    assert main(["simulate", "--questions", str(questions), "--out", str(tmp_path / "d"), "--seed", "3"]) == 0
    argv = ["simulate", "--questions", str(questions), "--out", str(tmp_path / "q"), "--quick", "--nightly", "r=8"]
    assert main(argv) == 0
    full, quick = seen
    assert (full.rounds, full.per_round, full.review_budget, full.answer_subset, full.seed) == (4, 300, 200, 308, 3)
    # the LoRA prompt shape is the product's (finetune/lora.py); the simulation sets only the length of a night
    assert full.nightly == {
        "force": True,
        "max_steps": loop.NIGHTLY_MAX_STEPS,
        "learning_rate": loop.NIGHTLY_LEARNING_RATE,
        "gate_questions": 40,
        "gate_corrections": 10,
    }
    assert (quick.rounds, quick.per_round, quick.review_budget, quick.answer_subset) == (1, 8, 6, 6)
    assert quick.nightly["max_steps"] == 3 and quick.nightly["r"] == 8 and "prompt_budget" not in quick.nightly
