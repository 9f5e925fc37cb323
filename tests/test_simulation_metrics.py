"""The simulation's answer records and shown-answer metrics: exact values, intervals, failures, merge."""

from __future__ import annotations

import math
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from evals.simulation import customers
from evals.simulation.answer_metrics import Outcome, bootstrap_intervals, failure, shown_metrics
from evals.simulation.heldout import AnswerRecord, low_confidence_split, summarise
from evals.simulation.split import (
    LabelledQuestion,
)


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


def test_a_pick_from_the_suggestions_counts_as_shown_with_its_verdict() -> None:
    def handoff(suggested: tuple[str, ...], chosen_right: bool | None) -> AnswerRecord:
        return replace(
            kind_record("handoff", False, False, 0.2, "over_abstention"), suggested=suggested, chosen_right=chosen_right
        )

    answers = [
        kind_record("passage", True, False, 0.9, ""),
        kind_record("passage", False, False, 0.8, "retrieval_miss"),
        handoff(("a", "b"), True),  # the question's article offered, the answer from it right
        handoff(("a", "b"), False),  # offered, but the answer from it missed a key fact
        handoff(("c",), None),  # the question's article not offered: still a hand-off
        handoff((), None),
    ]
    m = summarise({"n": 6}, answers, seed=1)
    assert (m["answer_accuracy_shown"], m["coverage"], m["wrong_shown_rate"]) == (1 / 2, 2 / 6, 1 / 6)
    with_pick = (m["answer_accuracy_shown_with_choice"], m["coverage_with_choice"], m["wrong_shown_rate_with_choice"])
    assert with_pick == (2 / 4, 4 / 6, 2 / 6)
    assert m["generated_share_with_choice"] == 0.0
    assert m["suggestions"] == {"offered": 3, "article_offered": 2, "chosen_right": 1}


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
