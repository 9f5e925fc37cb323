"""Fast tests of the simulation's pure parts (split, thumbs noise, reviewer judgement, shown-answer metrics and
intervals, held-out summary, report), of the review step against a real SQLite database, and of whole runs with the
fake LLM (the nightly job faked). No LLM is loaded; the questions are made up here."""

from __future__ import annotations

import math
import random
import uuid
from pathlib import Path
from typing import Any

import pytest

from chatbot.errors import BankbotError
from evals.simulation import customers, reviewers
from evals.simulation.answer_metrics import Outcome, bootstrap_intervals, failure, shown_metrics
from evals.simulation.heldout import AnswerRecord, low_confidence_split, summarise
from evals.simulation.report import markdown, metric_rows, timing_rows, verdicts, write_report
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


DELIVERY_GOLD = "Standard delivery takes 5–7 working days."
DELIVERY_QUESTION = LabelledQuestion("how long does my card take?", "card_delivery_estimate")


def chat_answer(
    text: str,
    kind: str = "generated",
    *,
    would_be: str | None = None,
    cited: list[str] | None = None,
    top: str = "card_delivery_estimate",
) -> Any:
    from chatbot.protocols import ChatAnswer, Source

    ids = [top, *(a for a in ("card_delivery_estimate", "atm_support") if a != top)]
    shown = kind in ("generated", "passage")
    return ChatAnswer(
        answer=text,
        sources=[Source(article_id=a, title=a, score=0.8, text="") for a in ids],
        confidence=0.4,
        confidence_components={},
        abstained=not shown,
        turn_id=uuid.uuid4(),
        conversation_id=uuid.uuid4(),
        latency_ms=1.0,
        would_be_answer=would_be,
        cited=cited if cited is not None else [top] if shown else [],
        answer_kind=kind,  # type: ignore[arg-type]
    )


def test_answer_record_keeps_the_verdict_and_rouge() -> None:
    from evals.simulation.heldout import answer_record

    kw: dict[str, Any] = {"article_id": "card_delivery_estimate", "gold": DELIVERY_GOLD, "threshold": 0.5}
    wrong = answer_record(DELIVERY_QUESTION, chat_answer("It takes 5-6 hours [1]."), **kw)
    assert (wrong.right, wrong.reason, wrong.contradictions, wrong.cited_right) == (
        False,
        "contradiction",
        ("duration: 5-6 hours",),
        True,
    )
    assert (wrong.model_right, wrong.model_reason, wrong.failure, wrong.intent) == (
        False,
        "contradiction",
        "wrong_fact",
        "card_delivery_estimate",
    )
    # ROUGE-L F: "it takes 5 6 hours 1" (6 tokens) vs "standard delivery takes 5 7 working days" (7): LCS "takes 5",
    # precision 2/6, recall 2/7 -> F = 4/13
    assert wrong.score == pytest.approx(4 / 13)
    right = answer_record(DELIVERY_QUESTION, chat_answer("Standard delivery takes 5–7 working days [1]."), **kw)
    assert (right.right, right.reason, right.facts_found) == (True, "right", ("duration: 5–7 working days",))
    assert (right.model_right, right.failure, right.answer_kind, right.retrieved_top) == (
        True,
        "",
        "generated",
        "card_delivery_estimate",
    )


def test_answer_record_judges_the_model_answer_apart_from_what_was_shown() -> None:
    from evals.simulation.heldout import answer_record

    kw: dict[str, Any] = {"article_id": "card_delivery_estimate", "gold": DELIVERY_GOLD, "threshold": 0.5}
    # The passage shown is right; the model's withheld answer was not (so the confidence was right to be low).
    passage = "From our help article: Standard delivery takes 5–7 working days."
    shown = answer_record(DELIVERY_QUESTION, chat_answer(passage, "passage", would_be="In 5-6 hours [1]."), **kw)
    assert (shown.right, shown.failure, shown.model_right, shown.model_reason) == (True, "", False, "contradiction")
    # A hand-off although retrieval ranked the article first, and the model's answer was right: over-abstention.
    handoff = chat_answer("Let me connect you.", "handoff", would_be="It takes 5–7 working days [1].")
    withheld = answer_record(DELIVERY_QUESTION, handoff, **kw)
    assert (withheld.right, withheld.reason, withheld.cited_right) == (False, "abstained", False)
    assert (withheld.failure, withheld.model_right, withheld.would_be_answer) == (
        "over_abstention",
        True,
        "It takes 5–7 working days [1].",
    )
    # Out of scope: the model wrote nothing; retrieval had another article first.
    missed = answer_record(DELIVERY_QUESTION, chat_answer("Let me connect you.", "handoff", top="atm_support"), **kw)
    assert (missed.failure, missed.model_right, missed.model_reason) == ("retrieval_miss", False, "no_answer")
    # Retrieval was right, the model cited its second passage first.
    cited_wrong = answer_record(DELIVERY_QUESTION, chat_answer("5–7 working days [2].", cited=["atm_support"]), **kw)
    assert (cited_wrong.reason, cited_wrong.failure) == ("wrong_article", "wrong_citation")


def test_model_answer_reads_the_withheld_answers_markers() -> None:
    kw: dict[str, Any] = {"cited": ["a"], "source_ids": ["a", "b"]}
    assert customers.model_answer(answer="x [1]", answer_kind="generated", would_be_answer=None, **kw) == (
        "x [1]",
        ["a"],
    )
    assert customers.model_answer(answer="From the article", answer_kind="passage", would_be_answer="y [2]", **kw) == (
        "y [2]",
        ["b"],
    )
    assert (
        customers.model_answer(answer="Let me connect you.", answer_kind="handoff", would_be_answer=None, **kw) is None
    )


# --- shown-answer metrics -----------------------------------------------------------------------------------------
MIXED = [
    Outcome(shown=True, right=True, generated=True),
    Outcome(shown=True, right=True, generated=False),  # a right passage answer
    Outcome(shown=True, right=False, generated=True),
    Outcome(shown=False, right=False, generated=False),
    Outcome(shown=False, right=False, generated=False),
]


def test_shown_metrics_exact_values() -> None:
    assert shown_metrics(MIXED) == {
        "answer_accuracy_shown": 2 / 3,
        "coverage": 3 / 5,
        "wrong_shown_rate": 1 / 5,
        "generated_share": 2 / 3,
    }
    nothing_shown = shown_metrics(MIXED[3:])
    assert (nothing_shown["coverage"], nothing_shown["wrong_shown_rate"]) == (0.0, 0.0)
    assert math.isnan(nothing_shown["answer_accuracy_shown"]) and math.isnan(nothing_shown["generated_share"])
    assert all(math.isnan(v) for v in shown_metrics([]).values())


def test_bootstrap_intervals_exact_cases() -> None:
    right = [Outcome(shown=True, right=True, generated=True)] * 4
    assert bootstrap_intervals(right, seed=3) == {
        "answer_accuracy_shown": {"low": 1.0, "high": 1.0},
        "coverage": {"low": 1.0, "high": 1.0},
        "wrong_shown_rate": {"low": 0.0, "high": 0.0},
        "generated_share": {"low": 1.0, "high": 1.0},
    }
    # One right and one wrong shown answer: a resample of two is right in 0, 1 or 2 of them (p = 1/4, 1/2, 1/4),
    # so 1000 resamples span [0, 1] for accuracy and wrong rate.
    pair = [Outcome(True, True, True), Outcome(True, False, True)]
    intervals = bootstrap_intervals(pair, seed=0)
    assert intervals["answer_accuracy_shown"] == {"low": 0.0, "high": 1.0}
    assert intervals["wrong_shown_rate"] == {"low": 0.0, "high": 1.0}
    assert intervals["coverage"] == {"low": 1.0, "high": 1.0}
    mixed = bootstrap_intervals(MIXED, seed=7)
    assert mixed == bootstrap_intervals(MIXED, seed=7)  # seeded
    for key, value in shown_metrics(MIXED).items():
        assert mixed[key]["low"] <= value <= mixed[key]["high"]
    # resamples where nothing is shown leave the per-shown rates undefined: no interval at all when never shown
    never = bootstrap_intervals(MIXED[3:], seed=0)
    assert math.isnan(never["answer_accuracy_shown"]["low"]) and never["coverage"] == {"low": 0.0, "high": 0.0}


def test_failure_names_why_an_answer_failed() -> None:
    def why(kind: str, right: bool, reason: str, retrieval_right: bool = True) -> str:
        return failure(answer_kind=kind, right=right, reason=reason, retrieval_right=retrieval_right)

    assert why("generated", True, "right") == ""
    assert why("passage", True, "right") == ""
    assert why("generated", False, "contradiction") == "wrong_fact"
    assert why("passage", False, "missing_fact") == "wrong_fact"
    assert why("generated", False, "wrong_article", retrieval_right=False) == "retrieval_miss"
    assert why("generated", False, "wrong_article") == "wrong_citation"
    assert why("generated", False, "no_citation") == "no_citation"
    assert why("handoff", False, "abstained") == "over_abstention"
    assert why("handoff", False, "wrong_article", retrieval_right=False) == "retrieval_miss"
    assert why("refusal", False, "wrong_article", retrieval_right=False) == "refused"


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


def kind_record(kind: str, right: bool, model_right: bool, confidence: float, failure_name: str) -> AnswerRecord:
    shown = kind in ("generated", "passage")
    return AnswerRecord(
        "q", "a", "ans", shown, 0.5, right, confidence, not shown, 0.5,
        answer_kind=kind, model_right=model_right, failure=failure_name, retrieved_top="a",
    )  # fmt: skip


def test_summarise_shown_answers_kinds_and_failures() -> None:
    answers = [
        kind_record("generated", True, True, 0.9, ""),
        kind_record("passage", True, False, 0.3, ""),
        kind_record("generated", False, False, 0.6, "wrong_fact"),
        kind_record("handoff", False, True, 0.2, "over_abstention"),
    ]
    m = summarise({"accuracy_at_1": 0.5, "n": 4}, answers, seed=1)
    assert (m["answer_accuracy_shown"], m["coverage"], m["wrong_shown_rate"], m["generated_share"]) == (
        2 / 3,
        3 / 4,
        1 / 4,
        2 / 3,
    )
    assert m["intervals"] == bootstrap_intervals(
        [
            Outcome(True, True, True),
            Outcome(True, True, False),
            Outcome(True, False, True),
            Outcome(False, False, False),
        ],
        seed=1,
    )
    assert (m["answer_accuracy"], m["model_answer_accuracy"], m["withheld_right_rate"]) == (0.5, 0.5, 0.25)
    assert m["answered_retrieval_at_1"] == 1.0
    assert m["answer_kinds"] == {"generated": 2, "passage": 1, "handoff": 1, "refusal": 0}
    assert m["failures"]["wrong_fact"] == 1 and m["failures"]["over_abstention"] == 1
    # AUROC of the confidence against the model's answer: right {0.9, 0.2} vs wrong {0.3, 0.6}: 0.9 beats both,
    # 0.2 neither -> 2/4
    assert m["auroc"] == pytest.approx(0.5)


def test_merge_rescores_answer_metrics_from_the_stored_rounds(tmp_path: Path) -> None:
    import json
    from dataclasses import asdict

    from evals.simulation.merge import rescore_run

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
SHOWN_KEYS = ("answer_accuracy_shown", "coverage", "wrong_shown_rate", "generated_share")


def held(shown: tuple[float, float, float, float], retrieval: float, auroc: float, ece: float) -> dict:
    """Held-out metrics as summarise writes them; each shown rate's interval is the rate ± 0.01."""
    values = dict(zip(SHOWN_KEYS, shown, strict=True))
    return {
        **values,
        "answer_accuracy": shown[0] * shown[1],
        "retrieval_accuracy_at_1": retrieval,
        "auroc": auroc,
        "ece": ece,
        "rouge_l": 0.3,
        "intervals": {k: {"low": v - 0.01, "high": v + 0.01} for k, v in values.items()},
        "failures": {"wrong_fact": 3},
        "confidence_bins": [{"lower": 0.0, "upper": 0.2, "count": 1, "confidence": 0.1, "accuracy": 0.0}],
    }


def fake_results() -> dict:
    def arm(last: dict) -> dict:
        return {
            "rounds": [
                {
                    "round": 1,
                    "heldout": held((0.9, 0.7, 0.07, 0.6), 0.7, 0.8, 0.1),
                    "reviews": {"turns_reviewed": 200, "corrected": 150},
                    "nightly": {"decision": "promoted"},
                    "reviewed_total": 200,
                    "timing": {"customers_s": 400.0, "reviews_s": 2.0, "nightly_s": 300.0, "heldout_s": 450.0},
                },
                {
                    "round": 2,
                    "heldout": last,
                    "reviews": {"turns_reviewed": 200, "corrected": 100},
                    "nightly": {"decision": "rejected"},
                    "reviewed_total": 400,
                    "heldout_reused_from_round": 1,
                    "timing": {"customers_s": 410.0, "reviews_s": 3.0, "nightly_s": 310.0, "heldout_s": 0.4},
                },
            ]
        }

    return {
        "config": {"questions": "q.csv", "seed": 1},
        "round0": held((0.5, 0.5, 0.25, 0.4), 0.6, 0.7, 0.2),
        "arms": {
            "confidence": arm(held((0.96, 0.85, 0.034, 0.9), 0.8, 0.9, 0.05)),
            "random": arm(held((0.9, 0.8, 0.08, 0.85), 0.75, 0.8, 0.1)),
        },
        "timing": {"total_s": 3000.0, "round0_heldout_s": 440.0},
    }


def test_metric_rows_are_the_rounds_by_metrics_table() -> None:
    rows = metric_rows(fake_results(), "confidence")
    assert [r["round"] for r in rows] == [0, 1, 2]
    assert [r["reviewed_total"] for r in rows] == [0, 200, 400]
    assert {k: v for k, v in rows[0].items() if k != "intervals"} == {
        "round": 0,
        "answer_accuracy_shown": 0.5,
        "coverage": 0.5,
        "wrong_shown_rate": 0.25,
        "generated_share": 0.4,
        "retrieval_accuracy_at_1": 0.6,
        "auroc": 0.7,
        "ece": 0.2,
        "reviewed_total": 0,
    }
    assert rows[2]["intervals"]["coverage"] == {"low": 0.85 - 0.01, "high": 0.85 + 0.01}


def test_verdicts_goals_and_arms(tmp_path: Path) -> None:
    results = fake_results()
    v = verdicts(results)
    assert v["confidence"]["coverage"] == {
        "round0": 0.5,
        "last": 0.85,
        "change": pytest.approx(0.35),
        "goal": ">= 0.80",
        "met": True,
    }
    assert v["confidence"]["ece"]["goal"] is None and v["confidence"]["ece"]["met"] is None
    assert v["confidence"]["all_goals_met"] is True
    assert (v["random"]["answer_accuracy_shown"]["met"], v["random"]["wrong_shown_rate"]["met"]) == (False, False)
    assert v["random"]["all_goals_met"] is False
    # confidence: 0.96 x 0.85 = 0.816 of the questions right, 0.034 wrong; random: 0.72 right, 0.08 wrong
    assert (v["confidence_vs_random"], v["confidence_at_least_random"]) == ("at least as good", True)
    results["arms"]["random"]["rounds"][-1]["heldout"] = held((0.99, 0.9, 0.009, 0.9), 0.8, 0.9, 0.05)
    assert verdicts(results)["confidence_vs_random"] == "worse"
    results["arms"]["random"]["rounds"][-1]["heldout"] = held((0.9, 0.95, 0.095, 0.9), 0.8, 0.9, 0.05)
    assert verdicts(results)["confidence_vs_random"] == "mixed"  # more right answers, but more wrong ones too


def test_report_tables_timing_and_files(tmp_path: Path) -> None:
    import json

    results = fake_results()
    assert timing_rows(results)[:3] == [
        ["confidence", "1", "400", "2", "300", "450", "1152"],
        ["confidence", "2", "410", "3", "310", "0", "723"],
        ["confidence", "all", "810", "5", "610", "450", "1875"],
    ]
    text = markdown(results)
    assert "| 2 | 0.960 [0.950, 0.970] | 0.850 [0.840, 0.860] |" in text
    assert "rejected (held-out as round 1)" in text
    assert "| right / shown | >= 0.95 | 0.500 | 0.960 ✓ | 0.900 ✗ |" in text
    assert "**at least as good**" in text and "Round 0 (held-out, once for all arms): 440 s." in text
    report = write_report(tmp_path, results)
    assert report.read_text().startswith("# Feedback-loop simulation")
    for name in ("summary.json", "metrics.png", "confidence_bins.png"):
        assert (tmp_path / name).stat().st_size > 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["metrics"]["random"][0]["answer_accuracy_shown"] == 0.5
    assert summary["verdicts"]["confidence"]["all_goals_met"] is True


# --- the review step on a real database ---------------------------------------------------------------------------
def test_confidence_arm_reviews_top_of_queue_and_corrections_cite_the_article(tmp_path: Path) -> None:
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
        crud.set_feedback(session=session, turn_id=ids[0], rating=-1)
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


def test_merge_results_joins_arms_of_comparable_runs() -> None:
    from evals.simulation.merge import merge_results

    both = fake_results()
    one = {
        **both,
        "config": {"questions": "q.csv", "seed": 1},
        "arms": {"confidence": both["arms"]["confidence"]},
        "timing": {"total_s": 10.0, "round0_heldout_s": 4.0, "arm_setup_s": {"confidence": 1.0}},
    }
    two = {
        **both,
        "config": {"questions": "q.csv", "seed": 1},
        "arms": {"random": both["arms"]["random"]},
        "timing": {"total_s": 12.0, "round0_heldout_s": 5.0, "arm_setup_s": {"random": 2.0}},
    }
    merged = merge_results([one, two])
    assert list(merged["arms"]) == ["confidence", "random"]
    assert merged["timing"] == {
        "total_s": 12.0,
        "per_run_s": [10.0, 12.0],
        "arm_setup_s": {"confidence": 1.0, "random": 2.0},
        "round0_heldout_s": 4.0,
    }
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
        "gate_questions": 10,
        "gate_corrections": 10,
    }
    assert (quick.rounds, quick.per_round, quick.review_budget, quick.answer_subset) == (1, 8, 6, 6)
    assert quick.nightly["max_steps"] == 3 and quick.nightly["r"] == 8 and "prompt_budget" not in quick.nightly
