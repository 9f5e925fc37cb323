"""Fast tests of the simulation's pure parts (split, thumbs noise, reviewer judgement, held-out summary, report)
and of the review step against a real SQLite database. No LLM is loaded; the questions are made up here."""

from __future__ import annotations

import random
import uuid
from pathlib import Path
from typing import Any

import pytest

from chatbot.errors import BankbotError
from evals.simulation import customers, reviewers
from evals.simulation.heldout import AnswerRecord, low_confidence_split, summarise
from evals.simulation.report import markdown, rows, verdicts, write_report
from evals.simulation.split import (
    BadQuestions,
    LabelledQuestion,
    customer_batches,
    read_questions,
    stratified_split,
    stratified_subset,
)
from tests.conftest import make_settings


def questions(counts: dict[str, int]) -> list[LabelledQuestion]:
    return [LabelledQuestion(f"{cat} question {i}", cat) for cat, n in counts.items() for i in range(n)]


# --- split ------------------------------------------------------------------------------------------------------
def test_read_questions_and_bad_files(tmp_path: Path) -> None:
    good = tmp_path / "q.csv"
    good.write_text('text,category\nhow do I top up?,top_up\n"  ",top_up\nlost card,lost_card\n', encoding="utf-8")
    assert read_questions(good) == [
        LabelledQuestion("how do I top up?", "top_up"),
        LabelledQuestion("lost card", "lost_card"),
    ]
    bad = tmp_path / "bad.csv"
    bad.write_text("question,label\na,b\n", encoding="utf-8")
    with pytest.raises(BadQuestions, match="'text' and 'category'"):
        read_questions(bad)
    with pytest.raises(BadQuestions, match="no such file"):
        read_questions(tmp_path / "missing.csv")


def test_stratified_split_counts_disjoint_and_deterministic() -> None:
    data = questions({"a": 10, "b": 3, "c": 1, "d": 2})
    pool, held = stratified_split(data, holdout_fraction=0.2, seed=7)
    held_counts = {c: sum(1 for q in held if q.category == c) for c in "abcd"}
    # round(10*.2)=2; round(3*.2)=1 (at least one); a lone question stays in the pool; 2 -> at least 1
    assert held_counts == {"a": 2, "b": 1, "c": 0, "d": 1}
    assert set(pool).isdisjoint(held) and len(pool) + len(held) == len(data)
    assert stratified_split(data, holdout_fraction=0.2, seed=7) == (pool, held)
    with pytest.raises(BadQuestions):
        stratified_split(data, holdout_fraction=1.0, seed=7)


def test_customer_batches_are_disjoint_and_fixed_by_seed() -> None:
    pool = questions({"a": 6, "b": 6})
    batches = customer_batches(pool, rounds=3, per_round=4, seed=1)
    assert [len(b) for b in batches] == [4, 4, 4]
    flat = [q for b in batches for q in b]
    assert len(set(flat)) == 12
    assert customer_batches(pool, rounds=3, per_round=4, seed=1) == batches
    with pytest.raises(BadQuestions, match="the pool has 12"):
        customer_batches(pool, rounds=4, per_round=4, seed=1)


def test_stratified_subset_covers_categories_first() -> None:
    data = questions({"a": 5, "b": 5, "c": 5})
    subset = stratified_subset(data, size=3, seed=3)
    assert sorted(q.category for q in subset) == ["a", "b", "c"]
    assert len(stratified_subset(data, size=100, seed=3)) == 15


# --- customers ---------------------------------------------------------------------------------------------------
class FixedRng(random.Random):
    def __init__(self, values: list[float]) -> None:
        super().__init__(0)
        self.values = list(values)

    def random(self) -> float:
        return self.values.pop(0)


def test_thumbs_follow_correctness_with_noise() -> None:
    b = customers.CustomerBehaviour(click_rate=0.6, wrong_click_rate=0.1)
    assert customers.thumbs(True, b, FixedRng([0.5, 0.5])) == 1
    assert customers.thumbs(False, b, FixedRng([0.5, 0.5])) == -1
    assert customers.thumbs(True, b, FixedRng([0.5, 0.05])) == -1  # clicked the wrong thumb
    assert customers.thumbs(True, b, FixedRng([0.6, 0.05])) is None  # never clicks
    with pytest.raises(ValueError):
        customers.CustomerBehaviour(click_rate=1.5)


def test_thumbs_rates_over_many_customers() -> None:
    b = customers.CustomerBehaviour(click_rate=0.6, wrong_click_rate=0.1)
    clicks = [customers.thumbs(True, b, customers.customer_rng(1, 1, i)) for i in range(5000)]
    no_click = sum(c is None for c in clicks) / len(clicks)
    wrong = sum(c == -1 for c in clicks) / sum(c is not None for c in clicks)
    assert 0.37 < no_click < 0.43
    assert 0.08 < wrong < 0.12


def test_answer_is_right_is_the_judge_on_the_gold_answer() -> None:
    gold = "Card top-ups arrive within 2 hours; after that, message us in Help > Chat with us."
    kw: dict[str, Any] = {"article_id": "top_up", "gold_answer": gold, "abstained": False}
    # lead facts: "2 hours" and the Help > Chat with us path; half of them (one) is enough by default
    assert customers.answer_is_right(answer="It arrives within 2 hours [1].", cited=["top_up"], **kw)
    assert not customers.answer_is_right(answer="It arrives within 3 hours [1].", cited=["top_up"], **kw)
    both = "Within two hours; if not, use Help > Chat with us [1]."
    assert not customers.answer_is_right(answer="Within 2 hours [1].", cited=["top_up"], threshold=1.0, **kw)
    assert customers.answer_is_right(answer=both, cited=["top_up"], threshold=1.0, **kw)
    assert not customers.answer_is_right(answer=gold, cited=["lost_card", "top_up"], **kw)
    assert not customers.answer_is_right(answer=gold, cited=[], **kw)
    kw["abstained"] = True
    assert not customers.answer_is_right(answer=gold, cited=["top_up"], **kw)
    # why a hand-off was wrong: retrieval had the right article first (over-abstention) or not (retrieval miss)
    assert customers.answer_verdict(answer="Sorry.", cited=[], retrieved=["top_up"], **kw).reason == "abstained"
    assert customers.answer_verdict(answer="Sorry.", cited=[], retrieved=["lost_card"], **kw).reason == "wrong_article"
    # ROUGE-L stays as a secondary number: LCS "alpha beta" of 4 and 4 tokens -> 0.5
    assert customers.answer_score("alpha beta zeta eta", "alpha beta gamma delta") == pytest.approx(0.5)


def test_the_simulation_judges_against_the_demo_article_text() -> None:
    gold_answer = "Cards arrive in 5–7 working days."
    kw: dict[str, Any] = {"cited": ["card_delivery_estimate"], "abstained": False, "gold_answer": gold_answer}
    answer = "5–7 working days; express costs £5.00 [1]."  # £5.00 is in the article's body, not this gold answer
    assert customers.answer_is_right(answer=answer, article_id="card_delivery_estimate", **kw)
    assert customers.demo_article_text("no_such_article") is None
    v = customers.answer_verdict(answer=answer, article_id="no_such_article", **kw | {"cited": ["no_such_article"]})
    assert (v.reason, v.contradictions) == ("contradiction", ("money: £5.00",))


# --- reviewers ---------------------------------------------------------------------------------------------------
def test_reviewer_approves_right_and_corrects_wrong_with_citation() -> None:
    gold = "Top up in the app under Money > Add."
    right = reviewers.judge(
        answer=gold + " [1]", cited=["top_up"], abstained=False, article_id="top_up", gold_answer=gold
    )
    assert right == reviewers.Judgement("approve", None)
    wrong = reviewers.judge(answer=gold, cited=["lost_card"], abstained=False, article_id="top_up", gold_answer=gold)
    assert wrong == reviewers.Judgement("correct", "Top up in the app under Money > Add. [1]")
    assert reviewers.dissent(right, gold) == wrong
    assert reviewers.dissent(wrong, gold) == right
    rng = random.Random(0)
    assert reviewers.second_opinion(right, gold, disagreement_rate=0.0, rng=rng) == right
    assert reviewers.second_opinion(right, gold, disagreement_rate=1.0, rng=rng) == wrong


# --- held-out summary ---------------------------------------------------------------------------------------------
def test_low_confidence_split_exact() -> None:
    # lowest 20% of 5 = ceil(1.0) = 1 answer: confidence 0.1, wrong; the rest has 1 wrong in 4
    assert low_confidence_split([0.9, 0.1, 0.5, 0.3, 0.8], [True, False, True, False, True], 0.2) == (1.0, 0.25)
    low, rest = low_confidence_split([], [], 0.2)
    assert low != low and rest != rest  # NaN


def record(right: bool, confidence: float, score: float, cited_right: bool = True, reason: str = "") -> AnswerRecord:
    return AnswerRecord("q", "a", "ans", cited_right, score, right, confidence, False, score / 2, reason=reason)


def test_answer_record_keeps_the_verdict_and_rouge() -> None:
    import uuid

    from chatbot.protocols import ChatAnswer, Source
    from evals.simulation.heldout import answer_record

    def chat(text: str, *, abstained: bool = False) -> ChatAnswer:
        sources = [Source(article_id=a, title=a, score=0.8, text="") for a in ("card_delivery_estimate", "atm_support")]
        return ChatAnswer(
            answer=text,
            sources=sources,
            confidence=0.4,
            confidence_components={},
            abstained=abstained,
            turn_id=uuid.uuid4(),
            conversation_id=uuid.uuid4(),
            latency_ms=1.0,
            would_be_answer="5–7 working days [1]." if abstained else None,
            cited=[] if abstained else ["card_delivery_estimate"],
        )

    question = LabelledQuestion("how long does my card take?", "card_delivery_estimate")
    gold = "Standard delivery takes 5–7 working days."
    kw: dict[str, Any] = {"article_id": "card_delivery_estimate", "gold": gold, "threshold": 0.5}
    wrong = answer_record(question, chat("It takes 5-6 hours [1]."), **kw)
    assert (wrong.right, wrong.reason, wrong.contradictions, wrong.cited_right) == (
        False,
        "contradiction",
        ("duration: 5-6 hours",),
        True,
    )
    # ROUGE-L F: "it takes 5 6 hours 1" (6 tokens) vs "standard delivery takes 5 7 working days" (7): LCS "takes 5",
    # precision 2/6, recall 2/7 -> F = 4/13
    assert wrong.score == pytest.approx(4 / 13)
    right = answer_record(question, chat("Standard delivery takes 5–7 working days [1]."), **kw)
    assert (right.right, right.reason, right.facts_found) == (True, "right", ("duration: 5–7 working days",))
    handed_off = answer_record(question, chat("Let me connect you.", abstained=True), **kw)
    assert (handed_off.right, handed_off.reason, handed_off.cited_right) == (False, "abstained", False)


def test_summarise_exact_values() -> None:
    answers = [
        record(True, 0.9, 0.6, reason="right"),
        record(False, 0.2, 0.2, False, reason="wrong_article"),
        record(True, 0.7, 0.4, reason="right"),
        record(False, 0.8, 0.3, reason="contradiction"),
    ]
    m = summarise({"accuracy_at_1": 0.75, "n": 4}, answers)
    assert m["reasons"] == {
        "right": 2,
        "abstained": 0,
        "no_citation": 0,
        "wrong_article": 1,
        "contradiction": 1,
        "missing_fact": 0,
    }
    assert (m["retrieval_accuracy_at_1"], m["retrieval_n"]) == (0.75, 4)
    assert m["rouge_l"] == pytest.approx(0.375)
    assert m["model_rouge_l"] == pytest.approx(0.1875)
    assert m["citation_accuracy"] == 0.75
    assert m["answer_accuracy"] == 0.5
    # AUROC: positives {0.9, 0.7} vs negatives {0.2, 0.8}: pairs won 0.9>0.2, 0.9>0.8, 0.7>0.2 -> 3/4
    assert m["auroc"] == pytest.approx(0.75)
    assert (m["wrong_share_low_confidence"], m["wrong_share_rest"]) == (1.0, pytest.approx(1 / 3))
    # citations: the least confident (0.2) cited wrongly; the other three cited right
    assert (m["wrong_citation_share_low_confidence"], m["wrong_citation_share_rest"]) == (1.0, 0.0)
    # ECE with 5 bins: (0.2,0.4]: {0.2 wrong} |0-0.2|; (0.6,0.8]: {0.7 right, 0.8 wrong} |0.5-0.75|; (0.8,1]: |1-0.9|
    assert m["ece"] == pytest.approx(0.25 * 0.2 + 0.5 * 0.25 + 0.25 * 0.1)


def test_merge_rescores_answer_metrics_from_the_stored_rounds(tmp_path: Path) -> None:
    import json
    from dataclasses import asdict

    from evals.simulation.report import rescore_run

    answers = [record(True, 0.9, 0.6), record(False, 0.2, 0.2, False)]
    (tmp_path / "rounds").mkdir()
    stored = {"answers": [asdict(a) for a in answers]}
    for a in stored["answers"][1:]:  # a round stored before the judge has no reason and fact lists
        for key in ("reason", "facts_found", "facts_missing", "contradictions"):
            del a[key]
    (tmp_path / "rounds" / "start-round-0.json").write_text(json.dumps(stored))
    (tmp_path / "rounds" / "random-round-1.json").write_text(json.dumps(stored))
    old = {"retrieval_accuracy_at_1": 0.5, "retrieval_n": 10, "rouge_l": 0.99}
    summary = {
        "round0": old,
        "arms": {"random": {"rounds": [{"round": 1, "heldout": old}, {"round": 2, "heldout": old}]}},
    }
    fresh = rescore_run(tmp_path, summary)
    assert fresh["round0"]["rouge_l"] == pytest.approx(0.4) and fresh["round0"]["retrieval_accuracy_at_1"] == 0.5
    assert fresh["round0"]["wrong_citation_share_low_confidence"] == 1.0
    assert fresh["arms"]["random"]["rounds"][0]["heldout"]["rouge_l"] == pytest.approx(0.4)
    assert fresh["arms"]["random"]["rounds"][1]["heldout"] == old  # no stored answers: kept as they were
    change = fresh["arms"]["random"]["rouge_l_change"]  # round 0 vs the last stored round: the same answers
    assert (change["n"], change["delta"], change["up"], change["down"]) == (1, 0.0, 0, 0)
    assert summary["round0"]["rouge_l"] == 0.99  # the input is not modified


# --- report --------------------------------------------------------------------------------------------------------
def held(retrieval: float, rouge: float) -> dict:
    return {
        "retrieval_accuracy_at_1": retrieval,
        "rouge_l": rouge,
        "citation_accuracy": 0.5,
        "confidence_bins": [{"lower": 0.0, "upper": 0.2, "count": 1, "confidence": 0.1, "accuracy": 0.0}],
    }


def fake_results() -> dict:
    def arm(r1: float, r2: float) -> dict:
        return {
            "rounds": [
                {
                    "round": 1,
                    "heldout": held(r1, 0.3),
                    "reviews": {"turns_reviewed": 4, "corrected": 3},
                    "nightly": {"decision": "promoted"},
                },
                {"round": 2, "heldout": held(r2, 0.35), "reviews": {}, "nightly": {}},
            ]
        }

    return {
        "config": {"questions": "q.csv"},
        "round0": held(0.5, 0.2),
        "arms": {"confidence": arm(0.6, 0.7), "random": arm(0.55, 0.65)},
    }


def test_report_verdicts_rows_and_files(tmp_path: Path) -> None:
    results = fake_results()
    v = verdicts(results)
    assert v["confidence"]["retrieval_accuracy_at_1"] == {"round0": 0.5, "last": 0.7, "rose": True}
    assert v["random"]["rouge_l"]["rose"] is True
    assert v["confidence_at_least_random"] is True
    table = rows(results, "confidence")
    assert [r[0] for r in table] == ["0", "1", "2"]
    assert table[1][1:3] == ["0.600", "0.300"] and table[1][-3:] == ["4", "3", "promoted"]
    results["arms"]["random"]["rounds"][-1]["heldout"] = held(0.95, 0.2)
    assert verdicts(results)["random"]["rouge_l"]["rose"] is False
    assert verdicts(results)["confidence_at_least_random"] is False
    assert "did NOT rise" in markdown(results) and "WORSE than" in markdown(results)
    report = write_report(tmp_path, results)
    assert report.read_text().startswith("# Feedback-loop simulation")
    for name in ("summary.json", "metrics.png", "confidence_bins.png"):
        assert (tmp_path / name).stat().st_size > 0


# --- the review step on a real database ---------------------------------------------------------------------------
def test_confidence_arm_reviews_top_of_queue_and_corrections_cite_the_article(tmp_path: Path) -> None:
    from chatbot.app import build_app
    from chatbot.db import crud
    from chatbot.db.models import Turn, TurnCreate
    from evals.simulation.loop import SimulationConfig, create_reviewers, pick_turns, review_turns

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
                    meta={"sim_intent": "top_up", "cited": ["top_up"] if i != 1 else ["x"]},
                ),
            )
            ids.append(turn.id)
        crud.set_feedback(session=session, turn_id=ids[0], rating=-1)
    reviewer_ids = create_reviewers(app)
    chosen = pick_turns(app, "confidence", reviewer_id=reviewer_ids[0], budget=2, rng=random.Random(0))
    assert chosen == [ids[0], ids[1]]  # thumbs-down first, then the least confident
    config = SimulationConfig(questions=Path("q.csv"), out=tmp_path, disagreement_rate=0.0)
    counts = review_turns(app, chosen, reviewer_ids=reviewer_ids, round_no=1, config=config, gold=gold)
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


def test_cli_rejects_a_missing_file_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from chatbot.cli import main

    assert main(["simulate", "--questions", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("no such file") and "\n" not in err


def test_merge_results_joins_arms_of_comparable_runs() -> None:
    from evals.simulation.report import merge_results

    both = fake_results()
    one = {
        **both,
        "config": {"questions": "q.csv", "seed": 1},
        "arms": {"confidence": both["arms"]["confidence"]},
        "timing": {"total_s": 10.0},
    }
    two = {
        **both,
        "config": {"questions": "q.csv", "seed": 1},
        "arms": {"random": both["arms"]["random"]},
        "timing": {"total_s": 12.0},
    }
    merged = merge_results([one, two])
    assert list(merged["arms"]) == ["confidence", "random"]
    assert merged["timing"] == {"total_s": 12.0, "per_run_s": [10.0, 12.0]}
    assert verdicts(merged)["confidence_at_least_random"] is True
    with pytest.raises(ValueError, match="differ in seed"):
        merge_results([one, {**two, "config": {"questions": "q.csv", "seed": 2}}])
    with pytest.raises(ValueError, match="more than one run"):
        merge_results([one, one])


def test_cli_nightly_option_needs_key_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from chatbot.cli import main
    from chatbot.commands.simulate_cmd import _value

    questions = tmp_path / "q.csv"
    questions.write_text("text,category\na,b\n", encoding="utf-8")
    argv = ["simulate", "--questions", str(questions), "--out", str(tmp_path / "o"), "--nightly", "max_steps"]
    assert main(argv) == 2
    assert "expected KEY=VALUE" in capsys.readouterr().err
    assert [_value(v) for v in ("3", "0.5", "true", "x")] == [3, 0.5, True, "x"]
